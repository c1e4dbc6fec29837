//! Revoking issued access tokens by what they carry rather than one by one. Access tokens are
//! JWTs nobody keeps a list of, so a console change that must end them records a *cutoff*: the
//! client's tokens issued at or before that instant are no longer valid — all of them (the
//! integration was deleted or disabled) or only those carrying one scope (a subscription that
//! granted it was removed). Introspection and the console API consult the cutoffs of the token's
//! client; a cutoff can be forgotten once every token it could concern has expired.

use crate::Timestamp;

/// A recorded cutoff for one client: tokens issued at or before `at` carrying `scope` (any
/// scope when `None`) are revoked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenCutoff {
    pub client_id: String,
    pub scope: Option<String>,
    pub at: Timestamp,
}

/// Is a token of this client, issued at `issued_at` with `scopes`, revoked by one of `cutoffs`?
pub fn is_cut_off(cutoffs: &[TokenCutoff], issued_at: Timestamp, scopes: &[String]) -> bool {
    cutoffs.iter().any(|c| {
        issued_at <= c.at
            && match &c.scope {
                None => true,
                Some(s) => scopes.iter().any(|x| x == s),
            }
    })
}

/// The scopes granted before a change and no longer granted after it: what tokens issued before
/// the change may carry but must not any more. A scope still granted by another subscription is
/// not revoked.
pub fn withdrawn_scopes<'a>(
    before: impl IntoIterator<Item = &'a String>,
    after: impl IntoIterator<Item = &'a String> + Clone,
) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in before {
        if !after.clone().into_iter().any(|a| a == s) && !out.contains(s) {
            out.push(s.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cut(scope: Option<&str>, at: Timestamp) -> TokenCutoff {
        TokenCutoff {
            client_id: "c".into(),
            scope: scope.map(str::to_owned),
            at,
        }
    }

    #[test]
    fn cutoffs_end_earlier_tokens_that_carry_the_scope() {
        let s = |v: &[&str]| v.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();
        let cutoffs = [cut(Some("pdf"), 100)];
        assert!(is_cut_off(&cutoffs, 99, &s(&["pdf", "x"])));
        assert!(is_cut_off(&cutoffs, 100, &s(&["pdf"])));
        assert!(!is_cut_off(&cutoffs, 101, &s(&["pdf"])));
        assert!(!is_cut_off(&cutoffs, 50, &s(&["x"])));
        assert!(is_cut_off(&[cut(None, 100)], 50, &s(&["x"])));
        assert!(!is_cut_off(&[], 50, &s(&["x"])));
    }

    #[test]
    fn only_scopes_no_longer_granted_are_withdrawn() {
        let before = vec!["a".to_owned(), "b".to_owned(), "c".to_owned(), "a".to_owned()];
        let after = vec!["b".to_owned()];
        assert_eq!(withdrawn_scopes(&before, &after), vec!["a", "c"]);
        assert!(withdrawn_scopes(&after, &before).is_empty());
    }
}
