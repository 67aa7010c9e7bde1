//! Events this process has seen, counted as they happen, for the metrics endpoint: lockouts
//! that sign-in failures caused and the outbox's sends by channel and outcome. The database
//! keeps the lasting record (audit rows, notice statuses); these are cheap running totals that
//! start at zero with the process, as Prometheus counters do.

use skillcard_core::notice::{parse_contact, Contact, Delivery};
use std::sync::atomic::{AtomicU64, Ordering};

/// How a notice is sent, from its recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Sms,
    Email,
    /// A recipient that is neither (the send fails; counted so it is seen).
    Unknown,
}

impl Channel {
    pub const ALL: [Channel; 3] = [Channel::Sms, Channel::Email, Channel::Unknown];

    pub fn of(recipient: &str) -> Channel {
        match parse_contact(recipient) {
            Ok(Contact::Mobile(_)) => Channel::Sms,
            Ok(Contact::Email(_)) => Channel::Email,
            Err(_) => Channel::Unknown,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Sms => "sms",
            Channel::Email => "email",
            Channel::Unknown => "unknown",
        }
    }
}

/// What one attempt to send a notice came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendOutcome {
    Sent,
    /// The gateway refused or failed; the notice is tried again later.
    Retried,
    /// The last attempt failed: the notice is given up.
    Failed,
}

impl SendOutcome {
    pub const ALL: [SendOutcome; 3] =
        [SendOutcome::Sent, SendOutcome::Retried, SendOutcome::Failed];

    pub fn as_str(self) -> &'static str {
        match self {
            SendOutcome::Sent => "sent",
            SendOutcome::Retried => "retried",
            SendOutcome::Failed => "failed",
        }
    }
}

/// The running totals (shared by a `Store` and its clones).
#[derive(Debug, Default)]
pub struct Counters {
    lockouts: AtomicU64,
    sends: [[AtomicU64; 3]; 3],
    reports: [AtomicU64; 2],
}

impl Counters {
    pub(crate) fn lockout(&self) {
        self.lockouts.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn send(&self, channel: Channel, outcome: SendOutcome) {
        self.sends[channel as usize][outcome as usize].fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn delivery_report(&self, d: Delivery) {
        self.reports[d as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// Delivery reports recorded with the outcome `d` (repeats not counted).
    pub fn delivery_reports(&self, d: Delivery) -> u64 {
        self.reports[d as usize].load(Ordering::Relaxed)
    }

    /// Sign-in failures that locked an account or a client address.
    pub fn lockouts(&self) -> u64 {
        self.lockouts.load(Ordering::Relaxed)
    }

    /// Attempts to send a notice over `channel` that came to `outcome`.
    pub fn sends(&self, channel: Channel, outcome: SendOutcome) -> u64 {
        self.sends[channel as usize][outcome as usize].load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_channel_and_outcome_counts_apart() {
        let c = Counters::default();
        c.send(Channel::Sms, SendOutcome::Sent);
        c.send(Channel::Sms, SendOutcome::Sent);
        c.send(Channel::Email, SendOutcome::Retried);
        for ch in Channel::ALL {
            for o in SendOutcome::ALL {
                let want = match (ch, o) {
                    (Channel::Sms, SendOutcome::Sent) => 2,
                    (Channel::Email, SendOutcome::Retried) => 1,
                    _ => 0,
                };
                assert_eq!(c.sends(ch, o), want, "{ch:?} {o:?}");
            }
        }
        assert_eq!(Channel::of("09121234567"), Channel::Sms);
        assert_eq!(Channel::of("a@example.ir"), Channel::Email);
        assert_eq!(Channel::of("nobody"), Channel::Unknown);
    }
}
