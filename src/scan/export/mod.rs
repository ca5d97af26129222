//! The report handed to other tools: SARIF for code scanning, Prometheus text for dashboards,
//! stable shards of a fleet for N cron jobs or an Indexed Job, and the merge of their JSON.

pub mod prom;
pub mod sarif;
pub mod shard;

pub use shard::{Shard, merge};
