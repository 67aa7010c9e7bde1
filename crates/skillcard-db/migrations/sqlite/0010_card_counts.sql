-- Cards per province and state, kept in the transaction of every change (db/moves.rs and the
-- shipment that creates cards), so the stock view and the dashboards read a handful of rows
-- instead of counting millions of cards. `skillcard check` proves them equal to the cards.
CREATE TABLE card_counts (
    province_id INTEGER NOT NULL REFERENCES provinces(id),
    state       TEXT NOT NULL,
    n           INTEGER NOT NULL,
    PRIMARY KEY (province_id, state)
);
INSERT INTO card_counts (province_id, state, n)
    SELECT province_id, state, COUNT(*) FROM cards GROUP BY province_id, state;
