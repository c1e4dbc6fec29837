//! Statements whose parameter count follows a list (`IN ($1, $2, …)`, multi-row inserts) are
//! built in a few shapes only. SQLite finds each `$N` by name, scanning the statement's
//! parameter list, both when it prepares a statement and when a value is bound, so a statement's
//! cost grows with the square of its parameter count; and every new statement text is prepared
//! anew instead of coming from the connection's statement cache. So lists are cut into chunks of
//! at most [`MAX_LIST`] items, an `IN` list is padded to a power of two by repeating its last item
//! (which changes nothing), and multi-row inserts go in batches whose sizes are powers of two.

/// The most items bound in one `IN` list.
pub(crate) const MAX_LIST: usize = 64;

/// How many placeholders an `IN` list of `n` items (at most [`MAX_LIST`]) gets.
pub(crate) fn in_list_width(n: usize) -> usize {
    n.max(1).next_power_of_two().min(MAX_LIST)
}

/// `$first, $first+1, …`: `width` numbered placeholders.
pub(crate) fn placeholders(first: usize, width: usize) -> String {
    (first..first + width)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A chunk's items padded to [`in_list_width`] by repeating the last one.
pub(crate) fn padded<T>(chunk: &[T]) -> impl Iterator<Item = &T> {
    let width = in_list_width(chunk.len());
    chunk
        .iter()
        .chain(std::iter::repeat_n(chunk.last(), width.saturating_sub(chunk.len())).flatten())
}

/// Splits `n` rows into batches whose sizes are powers of two, largest first, at most `max`
/// (itself a power of two) each.
pub(crate) fn batch_sizes(mut n: usize, max: usize) -> Vec<usize> {
    let mut sizes = Vec::new();
    while n > 0 {
        let size = if n >= max {
            max
        } else {
            1 << (usize::BITS - 1 - n.leading_zeros())
        };
        sizes.push(size);
        n -= size;
    }
    sizes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_lists_are_padded_to_a_power_of_two_with_the_last_item() {
        assert_eq!(in_list_width(1), 1);
        assert_eq!(in_list_width(3), 4);
        assert_eq!(in_list_width(64), 64);
        assert_eq!(padded(&[1, 2, 3]).copied().collect::<Vec<_>>(), [1, 2, 3, 3]);
        assert_eq!(padded(&[7]).copied().collect::<Vec<_>>(), [7]);
        assert_eq!(padded::<i32>(&[]).count(), 0);
        assert_eq!(placeholders(3, 2), "$3, $4");
    }

    #[test]
    fn batches_are_powers_of_two_that_add_up() {
        assert_eq!(batch_sizes(0, 16), Vec::<usize>::new());
        assert_eq!(batch_sizes(13, 16), [8, 4, 1]);
        assert_eq!(batch_sizes(40, 16), [16, 16, 8]);
        for n in 0..200 {
            let sizes = batch_sizes(n, 16);
            assert_eq!(sizes.iter().sum::<usize>(), n);
            assert!(sizes.iter().all(|s| s.is_power_of_two() && *s <= 16));
        }
    }
}
