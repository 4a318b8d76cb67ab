//! Checks shared by the parser targets.

/// Asserts that a parse error's message does not echo its input. Messages are fixed
/// lowercase sentences (letters, digits, spaces, `:`, `,`, `_`, `-`), so an input made only of
/// those characters can legitimately be a piece of one (the fuzzer does find such inputs);
/// any input with another character (an `@`, a `+`, a dot, upper case…) must never appear.
pub fn assert_not_echoed(message: &str, input: &str) {
    let plain = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || " :,_-".contains(c);
    if input.chars().count() >= 3 && !input.chars().all(plain) {
        assert!(!message.contains(input), "error message shows the input");
    }
}
