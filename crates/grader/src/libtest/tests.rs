use super::*;

/// What `cargo test -p ex01-canonical-json --features graded` prints on
/// standard output for an untouched stub (shortened to three tests), plus
/// the unit-test and doc-test binaries' summaries.
const TODO_STUB: &str = r#"
running 0 tests

test result: ok. 0 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s


running 3 tests
test a_whole_event ... FAILED
test keys_sort_by_code_point ... FAILED
test the_spec_examples ... FAILED

failures:

---- a_whole_event stdout ----

thread 'a_whole_event' panicked at exercises/01-canonical-json/src/lib.rs:51:5:
not yet implemented: walk the value recursively
note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace

---- keys_sort_by_code_point stdout ----

thread 'keys_sort_by_code_point' (7467) panicked at exercises/01-canonical-json/src/lib.rs:51:5:
not yet implemented: walk the value recursively

---- the_spec_examples stdout ----

thread 'the_spec_examples' (7468) panicked at exercises/01-canonical-json/src/lib.rs:51:5:
not yet implemented: walk the value recursively


failures:
    a_whole_event
    keys_sort_by_code_point
    the_spec_examples

test result: FAILED. 0 passed; 3 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.01s

"#;

/// Two different assertion failures and one pass.
const WRONG_ANSWER: &str = r#"
running 3 tests
test keys_sort_by_code_point ... FAILED
test floats_are_refused ... FAILED
test the_spec_examples ... ok

failures:

---- keys_sort_by_code_point stdout ----

thread 'keys_sort_by_code_point' panicked at exercises/01-canonical-json/tests/grade.rs:19:21:
assertion `left == right` failed: input: {"b": 1, "a": 2}
  left: "{\"b\":1,\"a\":2}"
 right: "{\"a\":2,\"b\":1}"
note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace

---- floats_are_refused stdout ----

thread 'floats_are_refused' panicked at exercises/01-canonical-json/tests/grade.rs:180:9:
1.5 must be refused as a float, got Ok("{\"n\":1.5}")


failures:
    keys_sort_by_code_point
    floats_are_refused

test result: FAILED. 1 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s
"#;

#[test]
fn counts_add_up_over_every_test_binary() {
    assert_eq!(
        parse_counts(TODO_STUB),
        Some(TestCounts {
            passed: 0,
            failed: 3,
            ignored: 0
        })
    );
    let counts = parse_counts(WRONG_ANSWER).expect("a summary line");
    assert_eq!((counts.passed, counts.failed, counts.total()), (1, 2, 3));
    assert_eq!(parse_counts("   Compiling ex01 v0.1.0\nerror[E0308]"), None);
}

#[test]
fn failing_tests_are_named_in_order() {
    assert_eq!(
        failing_tests(WRONG_ANSWER),
        ["keys_sort_by_code_point", "floats_are_refused"]
    );
}

#[test]
fn identical_todo_panics_are_shown_once() {
    let excerpt = failure_excerpt(TODO_STUB, ExcerptLimits::default());
    assert_eq!(
        excerpt,
        "---- a_whole_event ----\n\
         panicked at exercises/01-canonical-json/src/lib.rs:51:5:\n\
         not yet implemented: walk the value recursively\n\
         \n\
         (2 more failing tests panicked with one of the messages above)"
    );
}

#[test]
fn assertion_diffs_are_kept_and_backtrace_notes_dropped() {
    let excerpt = failure_excerpt(WRONG_ANSWER, ExcerptLimits::default());
    assert!(
        excerpt.contains(r#" right: "{\"a\":2,\"b\":1}""#),
        "{excerpt}"
    );
    assert!(
        excerpt.contains("---- floats_are_refused ----"),
        "{excerpt}"
    );
    assert!(!excerpt.contains("RUST_BACKTRACE"), "{excerpt}");
    assert!(!excerpt.contains("thread '"), "{excerpt}");
}

#[test]
fn long_failures_are_cut_and_extra_tests_named() {
    let limits = ExcerptLimits {
        tests: 1,
        lines_per_test: 2,
    };
    let excerpt = failure_excerpt(WRONG_ANSWER, limits);
    assert!(excerpt.contains("[… 2 more lines]"), "{excerpt}");
    assert!(
        excerpt.ends_with("(also failing: floats_are_refused)"),
        "{excerpt}"
    );
}

/// cargo's standard error when the student's code does not compile.
const COMPILE_ERROR: &str = r#"   Compiling ex01-canonical-json v0.1.0 (/work/main/exercises/01-canonical-json)
warning: unused variable: `x`
 --> exercises/01-canonical-json/src/lib.rs:3:9
  |
3 |     let x = 1;
  |         ^ help: if this is intentional, prefix it with an underscore: `_x`

error[E0308]: mismatched types
  --> exercises/01-canonical-json/src/lib.rs:52:5
   |
50 | pub fn canonical_json(value: &Value) -> Result<String, CanonicalJsonError> {
   |                                         ---------------------------------- expected `Result<String, CanonicalJsonError>` because of return type
51 |     let _ = value;
52 |     String::new()
   |     ^^^^^^^^^^^^^ expected `Result<String, CanonicalJsonError>`, found `String`

error[E0425]: cannot find value `y` in this scope
  --> exercises/01-canonical-json/src/lib.rs:60:5
   |
60 |     y
   |     ^ not found in this scope

error[E0425]: cannot find value `z` in this scope
  --> exercises/01-canonical-json/src/lib.rs:61:5

Some errors have detailed explanations: E0308, E0425.
For more information about an error, try `rustc --explain E0308`.
warning: `ex01-canonical-json` (lib) generated 1 warning
error: could not compile `ex01-canonical-json` (lib) due to 3 previous errors; 1 warning emitted
"#;

#[test]
fn compile_errors_show_the_first_errors_without_warnings() {
    let excerpt = compiler_errors(COMPILE_ERROR, 2, 40);
    assert!(
        excerpt.starts_with("error[E0308]: mismatched types"),
        "{excerpt}"
    );
    assert!(excerpt.contains("found `String`"), "{excerpt}");
    assert!(excerpt.contains("cannot find value `y`"), "{excerpt}");
    assert!(!excerpt.contains("cannot find value `z`"), "{excerpt}");
    assert!(!excerpt.contains("unused variable"), "{excerpt}");
    assert!(!excerpt.contains("Compiling"), "{excerpt}");
    assert!(!excerpt.contains("could not compile"), "{excerpt}");
    assert!(
        excerpt.ends_with("(1 more errors; fix these first)"),
        "{excerpt}"
    );
}

#[test]
fn compile_errors_respect_the_line_budget() {
    let excerpt = compiler_errors(COMPILE_ERROR, 3, 4);
    assert_eq!(excerpt.lines().count(), 5, "{excerpt}");
    assert!(excerpt.ends_with("[…]"), "{excerpt}");
}

const LISTING: &str = "a::one: test\ntwo: test\n\n2 tests, 0 benchmarks\n0 tests, 0 benchmarks\n";

fn counts(passed: u32) -> TestCounts {
    TestCounts {
        passed,
        failed: 0,
        ignored: 0,
    }
}

#[test]
fn a_pass_is_confirmed_only_by_each_listed_test_reporting_ok_once() {
    let listed = listed_tests(LISTING);
    assert_eq!(listed, ["a::one", "two"]);
    let honest = "\nrunning 2 tests\ntest two ... ok\ntest a::one ... ok\n\ntest result: ok. 2 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s\n";
    assert_eq!(unconfirmed(honest, &listed, counts(2)), None);

    // The student's code printed a summary of its own and exited early.
    let forged = "\nrunning 2 tests\n\ntest result: ok. 22 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s\n";
    assert_eq!(
        unconfirmed(forged, &listed, counts(22)).as_deref(),
        Some("`a::one` did not report ok exactly once")
    );
    // Every line forged, but one pass too many counted.
    assert_eq!(
        unconfirmed(honest, &listed, counts(3)).as_deref(),
        Some("2 tests are listed but 3 passes were reported")
    );
    assert!(unconfirmed(honest, &[], counts(2)).is_some());
}
