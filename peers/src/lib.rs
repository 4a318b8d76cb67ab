//! Benchmarks of `crm-privacy` next to peer libraries; see `benches/peers.rs`.
