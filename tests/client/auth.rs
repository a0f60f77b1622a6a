//! Tokens end to end: the 401 replay after expiry, the token endpoint down and back, and a
//! wrong secret.
