-- The risk monitors firing per vault, written in the same transaction as
-- the action that evaluated them: a restarted service or a new leader
-- continues the episode (no second firing alert while it holds, one
-- resolved alert when it clears). since is when the episode started and
-- notified when its last change (start, or new markets) was alerted,
-- both service time; firing_json is the Firing as the API shows it.
CREATE TABLE monitor_state (
    vault_id    TEXT NOT NULL,
    monitor     TEXT NOT NULL,
    since       BIGINT NOT NULL,
    notified    BIGINT NOT NULL,
    firing_json TEXT NOT NULL,
    PRIMARY KEY (vault_id, monitor)
);
