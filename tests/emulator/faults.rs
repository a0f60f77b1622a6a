//! Faults and counters.
