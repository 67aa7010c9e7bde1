//! The only way a card's state changes (after a shipment creates it in transit).
//!
//! A move names the state the cards must be in and the state they go to, both the core's
//! [`CardState`], and is refused unless [`CardState::can_move_to`] allows it: the regulation's
//! road for a card is decided in one place, and a store step that tried a move outside it is a
//! bug, reported as one. The UPDATE is guarded by the `from` state, so a concurrent step makes
//! the move come up short (the caller's refusal) instead of skipping a state.
//!
//! Every move also keeps `card_counts` (cards per province and state) in step, in the same
//! transaction, so counts are read without counting.
//!
//! Invariant: `grep "UPDATE cards"` finds only this module; `card_counts` changes only here and
//! where a shipment creates its cards ([`count_new`]).

use crate::tx::WriteTx;
use crate::{Result, StoreError};
use skillcard_core::card::CardState;
use skillcard_core::serial::SerialRange;
use skillcard_core::DomainError;
use sqlx::AnyConnection;

/// Which cards of a range a move may touch.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Within {
    /// The cards a shipment brought to a province (R-1's receipt).
    Shipment { shipment_id: i64, province_id: i64 },
    /// A province's cards (R-4.3's handover from its vault).
    Province(i64),
}

/// Moves every card of `range` (within `within`) from `from` to `to`, recording the handover
/// that moved them, if any. Returns whether every serial of the range moved.
pub(crate) async fn move_range(
    conn: &mut AnyConnection,
    range: SerialRange,
    within: Within,
    from: CardState,
    to: CardState,
    handover_id: Option<i64>,
) -> Result<bool> {
    check(from, to)?;
    let (shipment, province, province_id) = match within {
        Within::Shipment {
            shipment_id,
            province_id,
        } => (Some(shipment_id), None, province_id),
        Within::Province(id) => (None, Some(id), id),
    };
    let moved = sqlx::query(
        "UPDATE cards SET state = $1, handover_id = COALESCE($2, handover_id) \
         WHERE state = $3 AND serial >= $4 AND serial <= $5 \
         AND ($6 IS NULL OR shipment_id = $6) AND ($7 IS NULL OR province_id = $7)",
    )
    .bind(to.as_str())
    .bind(handover_id)
    .bind(from.as_str())
    .bind(range.first() as i64)
    .bind(range.last() as i64)
    .bind(shipment)
    .bind(province)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    recount(conn, province_id, from, to, moved).await?;
    Ok(moved == range.len())
}

/// Moves one card from `from` to `to`; a card registered (`bound`) is stamped issued today.
/// A card no longer in `from` is a concurrent change: [`DomainError::Conflict`].
pub(crate) async fn move_card(
    w: &mut WriteTx,
    serial: u64,
    from: CardState,
    to: CardState,
) -> Result<()> {
    check(from, to)?;
    let issued_at = (to == CardState::Bound).then(|| w.today().to_string());
    let moved: Option<(i64,)> = sqlx::query_as(
        "UPDATE cards SET state = $1, issued_at = COALESCE($2, issued_at) WHERE serial = $3 AND state = $4 \
         RETURNING province_id",
    )
    .bind(to.as_str())
    .bind(issued_at)
    .bind(serial as i64)
    .bind(from.as_str())
    .fetch_optional(&mut *w.tx)
    .await?;
    let (province_id,) = moved.ok_or(DomainError::Conflict)?;
    recount(&mut w.tx, province_id, from, to, 1).await
}

/// A shipment's new cards, all `in_transit`, counted in.
pub(crate) async fn count_new(conn: &mut AnyConnection, province_id: i64, n: u64) -> Result<()> {
    add(conn, province_id, CardState::InTransit, n as i64).await
}

/// `n` cards of `province_id` went from `from` to `to`.
async fn recount(
    conn: &mut AnyConnection,
    province_id: i64,
    from: CardState,
    to: CardState,
    n: u64,
) -> Result<()> {
    if n == 0 {
        return Ok(());
    }
    add(conn, province_id, from, -(n as i64)).await?;
    add(conn, province_id, to, n as i64).await
}

async fn add(conn: &mut AnyConnection, province_id: i64, state: CardState, n: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO card_counts (province_id, state, n) VALUES ($1, $2, $3) \
         ON CONFLICT (province_id, state) DO UPDATE SET n = card_counts.n + excluded.n",
    )
    .bind(province_id)
    .bind(state.as_str())
    .bind(n)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

fn check(from: CardState, to: CardState) -> Result<()> {
    if !from.can_move_to(to) {
        return Err(StoreError::Corrupt(format!(
            "move {from} → {to} is not allowed"
        )));
    }
    Ok(())
}
