//! Store semantics: connections, filters, sorts, relations, writes, seeds.
