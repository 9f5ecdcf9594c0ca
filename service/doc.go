// Package service is yieldvault's scheduled rebalancing service, the
// engine behind `yieldvault serve`: vaults loaded from a configuration,
// their keeper schedules (harvest, rebalance, exit checks) and the market
// data sources on cron, the state in SQLite, execution through an
// Executor, and a JSON API with Prometheus metrics.
//
// # Intents
//
// Every action (a scheduled tick, an API request, a vault's creation) is
// an intent with an idempotency key: "<vault>/<action>/<tick>" for a
// scheduled tick, "<vault>/api/<Idempotency-Key>" for a request,
// "<vault>/create". The intent is journalled as pending before the action
// runs; the action runs on the vault restored from its last committed
// snapshot, and its effects (the new vault.State snapshot, the share
// balances and positions derived from it, the ledger entries, the
// decision, the keeper's tick) are committed in the same transaction
// that marks the intent done. A crash before that commit leaves the
// intent pending and the snapshot untouched: on start the service re-runs
// pending intents from that pre-state, deterministically (the action's
// time is the intent's tick, or the vault's time if later, and the market
// data is the history at that time). A crash after it leaves nothing to
// do. Nothing runs twice and nothing is lost.
//
// # Time and scheduling
//
// A job's ticks come from its cron schedule's Next, starting from the
// last tick the database says was done, never from when the job happened
// to be called. In live mode robfig/cron (UTC, SkipIfStillRunning then
// Recover) calls each job, which then runs every tick due up to wall time.
// In replay mode and in tests a LoopScheduler calls the same jobs at every
// tick of a simulated clock.
//
// # Lease
//
// Several processes may share a database; only the holder of the lease
// row (renewed every TTL/3) runs scheduled jobs and recovers intents. The
// lease is checked inside the transaction that journals a scheduled
// intent; the intent's unique key and the vault's version check at commit
// are the last line of defence. The lease row carries a random nonce per
// process, so two processes under one holder name never both lead, and a
// generation that goes up each time the lease changes hands: the fencing
// token. In send mode the record of each signed transaction, before its
// broadcast, checks the lease and its generation in the same write
// transaction (Store.Fenced), so a process that lost the lease sends
// nothing.
//
// # Write deadline
//
// Every write transaction has a deadline (Config.WriteDeadline, also
// SQLite's busy timeout). A process whose write stays open past 1.5 times
// it exits (the watchdog: a stopped-and-resumed process or a stuck disk
// must not keep SQLite's write lock), and a process that cannot write
// within it reports the hung holder on /readyz, a metric and the log.
package service
