//! The etag pattern of every update: read the object (and its `_etag`), apply the change,
//! write it with that `etag`; when someone else wrote first
//! ([`ErrorKind::EtagConflict`]), read again and re-apply,
//! a bounded number of times.

use std::future::Future;

use crate::{Error, ErrorKind};

/// Attempts by default, the first included: a write that loses three races in a row is
/// contended enough that a person should look.
pub const DEFAULT_ATTEMPTS: u32 = 3;

/// Runs `attempt` (read, re-apply, write) until it succeeds, fails otherwise than by an etag
/// conflict, or has met `attempts` conflicts (at least 1 attempt). `attempt` is given the
/// attempt number, from 1; each call must read the object again, so that its write carries
/// the current `_etag`.
///
/// # Errors
///
/// The first error that is not an [`ErrorKind::EtagConflict`], returned at once (a mutation
/// whose outcome is unknown is never re-sent); or, after `attempts` conflicts, the last
/// conflict, typed as it came ([`ErrorKind::EtagConflict`], with ION's errors).
///
/// # Example
///
/// Take 5 off an inventory record's quantity, however many others are writing to it:
///
/// ```
/// # #[cfg(all(feature = "testing", feature = "starter"))] {
/// use ion_client::bulk::conflict;
/// use ion_client::operations::StarterOperations;
/// use ion_client::operations::{get_part_inventory, update_part_inventory_quantity};
/// use ion_client::testing::TestIon;
///
/// # async fn example() -> Result<(), Box<dyn std::error::Error>> {
/// let ion = TestIon::start().await?;
/// let client = ion.client();
/// let taken = conflict::retry(conflict::DEFAULT_ATTEMPTS, |_attempt| async move {
///     let read = client
///         .get_part_inventory(get_part_inventory::Variables { id: "8".into() })
///         .await?;
///     let row = read.part_inventory.expect("inventory 8").part_inventory_summary;
///     client
///         .update_part_inventory_quantity(update_part_inventory_quantity::Variables {
///             id: "8".into(),
///             etag: row.etag.unwrap_or_default(),
///             quantity: row.quantity - 5.0,
///         })
///         .await
/// })
/// .await?;
/// let row = taken.update_part_inventory.and_then(|p| p.part_inventory).expect("written");
/// assert_eq!(row.quantity, 35.0);
/// # Ok(())
/// # }
/// # tokio::runtime::Runtime::new().unwrap().block_on(example()).unwrap();
/// # }
/// ```
pub async fn retry<T, F, Fut>(attempts: u32, mut attempt: F) -> Result<T, Error>
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Result<T, Error>>,
{
    let attempts = attempts.max(1);
    let mut n = 1;
    loop {
        match attempt(n).await {
            Err(e) if matches!(e.kind(), ErrorKind::EtagConflict { .. }) && n < attempts => {
                tracing::debug!(attempt = n, error = %e, "etag conflict; reading again");
                n += 1;
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conflict() -> Error {
        Error::from_kind(ErrorKind::etag_conflict(Vec::new(), None), "stale")
    }

    #[tokio::test]
    async fn conflicts_are_retried_up_to_the_bound_and_the_last_is_returned() {
        let mut calls = Vec::new();
        let result: Result<(), Error> = retry(3, |n| {
            calls.push(n);
            async { Err(conflict()) }
        })
        .await;
        assert_eq!(calls, [1, 2, 3]);
        assert!(matches!(
            result.map_err(|e| e.kind().clone()),
            Err(ErrorKind::EtagConflict { .. })
        ));
    }

    #[tokio::test]
    async fn success_after_a_conflict_and_other_errors_at_once() {
        let result = retry(3, |n| async move {
            if n == 1 { Err(conflict()) } else { Ok(n) }
        })
        .await;
        assert_eq!(result.ok(), Some(2));
        let mut calls = 0;
        let result: Result<(), Error> = retry(5, |_| {
            calls += 1;
            async {
                Err(Error::from_kind(
                    ErrorKind::outcome_unknown(None, Some(502)),
                    "unknown",
                ))
            }
        })
        .await;
        assert!(result.is_err());
        assert_eq!(calls, 1, "an unknown outcome is never re-sent");
        let mut calls = 0;
        let _ = retry(0, |_| {
            calls += 1;
            async { Err::<(), _>(conflict()) }
        })
        .await;
        assert_eq!(calls, 1, "at least one attempt");
    }
}
