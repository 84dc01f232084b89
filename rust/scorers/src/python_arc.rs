//! Thin pyo3 layer over the `arc_grid` crate (ARC-AGI parsing and grading).
//!
//! Input text goes through `to_string_lossy`: a lone surrogate becomes U+FFFD, which is
//! neither a bracket, a digit nor whitespace, so no verdict changes.

use std::collections::BTreeMap;

use arc_grid::{Grid, Verdict};
use pyo3::exceptions::{PyOverflowError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyAnyMethods, PyString};

type Rows = Vec<Vec<i64>>;

fn lossy(s: &Bound<'_, PyString>) -> String {
    s.to_string_lossy().into_owned()
}

/// `list[list[int]]` → rows; ints beyond i64 give ValueError (not OverflowError).
fn rows_arg(obj: &Bound<'_, PyAny>, arg: &str) -> PyResult<Rows> {
    obj.extract::<Rows>().map_err(|e| {
        if e.is_instance_of::<PyOverflowError>(obj.py()) {
            PyValueError::new_err(format!("{arg}: {e}"))
        } else {
            e
        }
    })
}

fn expected_grid(obj: &Bound<'_, PyAny>, arg: &str) -> PyResult<Grid> {
    Grid::from_i64(&rows_arg(obj, arg)?).map_err(|e| PyValueError::new_err(format!("{arg}: {e}")))
}

/// `backscan_json_parser(text)` after upstream's shape checks and numpy 1.26's int8 cast,
/// or None. Values are not range-checked.
#[pyfunction]
fn arc_parse_grid(text: &Bound<'_, PyString>) -> Option<Vec<Vec<i8>>> {
    arc_grid::parse_grid(&lossy(text)).ok().map(|g| g.to_rows())
}

/// Upstream's `correct` for one attempt (outputs on which upstream raises count as wrong).
#[pyfunction]
fn arc_attempt_correct(text: &Bound<'_, PyString>, expected: &Bound<'_, PyAny>) -> PyResult<bool> {
    let expected = expected_grid(expected, "expected")?;
    Ok(arc_grid::attempt_correct(&lossy(text), &expected))
}

/// `"correct"`, the reason code of a wrong attempt, or `"upstream_error:<Exception>"`.
#[pyfunction]
fn arc_attempt_verdict(
    text: &Bound<'_, PyString>,
    expected: &Bound<'_, PyAny>,
) -> PyResult<&'static str> {
    let expected = expected_grid(expected, "expected")?;
    Ok(arc_grid::grade(&lossy(text), &expected).code())
}

/// `arc_attempt_correct` element-wise; releases the GIL.
#[pyfunction]
fn arc_attempt_correct_batch(
    py: Python<'_>,
    texts: Vec<Bound<'_, PyString>>,
    expecteds: Vec<Bound<'_, PyAny>>,
) -> PyResult<Vec<bool>> {
    crate::python::check_same_len(
        "arc_attempt_correct_batch",
        ("texts", texts.len()),
        ("expecteds", expecteds.len()),
    )?;
    let texts: Vec<String> = texts.iter().map(lossy).collect();
    let grids = expecteds
        .iter()
        .enumerate()
        .map(|(i, rows)| expected_grid(rows, &format!("expecteds[{i}]")))
        .collect::<PyResult<Vec<Grid>>>()?;
    Ok(py.detach(move || {
        texts
            .iter()
            .zip(&grids)
            .map(|(t, g)| arc_grid::grade(t, g) == Verdict::Correct)
            .collect()
    }))
}

/// pass@k of one test example: 1.0 if any attempt is correct, else 0.0.
#[pyfunction]
fn arc_pass_at_k(attempts: Vec<bool>) -> PyResult<f64> {
    arc_grid::pass_at_k(&attempts)
        .ok_or_else(|| PyValueError::new_err("arc_pass_at_k: no attempts"))
}

/// Version score from `{task_id: [[attempt correct, ...] per test example]}`, aggregated
/// like upstream's pandas code (NaN when empty).
#[pyfunction]
fn arc_version_score(tasks: BTreeMap<String, Vec<Vec<bool>>>) -> f64 {
    arc_grid::version_score(&tasks)
}

/// Upstream `pretty_print_json(grid)`.
#[pyfunction]
fn arc_format_grid(grid: &Bound<'_, PyAny>) -> PyResult<String> {
    Ok(arc_grid::pretty_print_json(&rows_arg(grid, "grid")?))
}

/// Upstream prompt (the user message) for training pairs `[{"input": g, "output": g}, ...]`
/// and a test input grid.
#[pyfunction]
fn arc_format_prompt(
    train: Vec<Bound<'_, PyAny>>,
    test_input: &Bound<'_, PyAny>,
) -> PyResult<String> {
    let pairs = train
        .iter()
        .map(|pair| -> PyResult<(Rows, Rows)> {
            Ok((
                rows_arg(&pair.get_item("input")?, "train[].input")?,
                rows_arg(&pair.get_item("output")?, "train[].output")?,
            ))
        })
        .collect::<PyResult<Vec<_>>>()?;
    Ok(arc_grid::format_prompt(
        &pairs,
        &rows_arg(test_input, "test_input")?,
    ))
}

/// Adds the ARC functions to the `nejumi_scorers` module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(arc_parse_grid, m)?)?;
    m.add_function(wrap_pyfunction!(arc_attempt_correct, m)?)?;
    m.add_function(wrap_pyfunction!(arc_attempt_verdict, m)?)?;
    m.add_function(wrap_pyfunction!(arc_attempt_correct_batch, m)?)?;
    m.add_function(wrap_pyfunction!(arc_pass_at_k, m)?)?;
    m.add_function(wrap_pyfunction!(arc_version_score, m)?)?;
    m.add_function(wrap_pyfunction!(arc_format_grid, m)?)?;
    m.add_function(wrap_pyfunction!(arc_format_prompt, m)?)?;
    Ok(())
}
