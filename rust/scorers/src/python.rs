//! The `nejumi_scorers` module: the jaster functions as pyo3 functions (argument
//! conversion, error mapping and GIL release only; the logic is in the plain modules).
//! `str` arguments are read as UTF-8 through pyo3's safe API, so a lone surrogate
//! raises `ValueError` (CPython's `UnicodeEncodeError`) before any scoring.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedStr;
use pyo3::types::PyString;

use crate::{control, fuzz, normalize, robust};

/// The UTF-8 text of `s`, borrowed from the string object (CPython caches it there).
fn text<'a>(s: &'a Bound<'_, PyString>, arg: &str) -> PyResult<&'a str> {
    s.to_str()
        .map_err(|e| PyValueError::new_err(format!("{arg}: not valid Unicode text: {e}")))
}

/// The UTF-8 texts of `items`, kept alive without the GIL (`PyBackedStr` holds the
/// string object), for the batch functions.
fn texts(items: &[Bound<'_, PyString>], arg: &str) -> PyResult<Vec<PyBackedStr>> {
    items
        .iter()
        .enumerate()
        .map(|(i, s)| {
            PyBackedStr::try_from(s.clone()).map_err(|e| {
                PyValueError::new_err(format!("{arg}[{i}]: not valid Unicode text: {e}"))
            })
        })
        .collect()
}

/// `function: first and second must have the same length (got a and b)` unless `a == b`.
pub(crate) fn check_same_len(
    function: &str,
    (first, a): (&str, usize),
    (second, b): (&str, usize),
) -> PyResult<()> {
    if a == b {
        Ok(())
    } else {
        Err(PyValueError::new_err(format!(
            "{function}: {first} and {second} must have the same length (got {a} and {b})"
        )))
    }
}

/// Upstream `text_formatter(raw, task)` only (no split/strip/NFKC).
#[pyfunction]
fn text_formatter(raw: &Bound<'_, PyString>, task: &Bound<'_, PyString>) -> PyResult<String> {
    Ok(normalize::text_formatter(
        text(raw, "raw")?,
        text(task, "task")?,
    ))
}

/// Processed jaster prediction: text_formatter, split("\n\n")[0], strip, strip quotes, NFKC.
#[pyfunction]
fn normalize_prediction(raw: &Bound<'_, PyString>, task: &Bound<'_, PyString>) -> PyResult<String> {
    Ok(normalize::normalize_prediction(
        text(raw, "raw")?,
        text(task, "task")?,
    ))
}

/// Gold answer normalisation: NFKC (Unicode 14.0.0, as CPython 3.11).
#[pyfunction]
fn normalize_reference(s: &Bound<'_, PyString>) -> PyResult<String> {
    Ok(normalize::normalize_reference(text(s, "s")?))
}

/// 1.0 if pred == gold else 0.0.
#[pyfunction]
fn exact_match(pred: &Bound<'_, PyString>, gold: &Bound<'_, PyString>) -> PyResult<f64> {
    Ok(crate::exact_match(text(pred, "pred")?, text(gold, "gold")?))
}

/// 1.0 if float(pred) == float(gold) else 0.0; unparsable → 0.0.
#[pyfunction]
fn exact_match_figure(pred: &Bound<'_, PyString>, gold: &Bound<'_, PyString>) -> PyResult<f64> {
    Ok(crate::exact_match_figure(
        text(pred, "pred")?,
        text(gold, "gold")?,
    ))
}

/// fuzzywuzzy.fuzz.token_sort_ratio(pred, gold) / 100.0.
#[pyfunction]
fn char_f1(pred: &Bound<'_, PyString>, gold: &Bound<'_, PyString>) -> PyResult<f64> {
    Ok(fuzz::char_f1(text(pred, "pred")?, text(gold, "gold")?))
}

/// fuzzywuzzy.fuzz.token_sort_ratio(a, b) as an int in 0..=100.
#[pyfunction]
fn token_sort_ratio(a: &Bound<'_, PyString>, b: &Bound<'_, PyString>) -> PyResult<u32> {
    Ok(fuzz::token_sort_ratio(text(a, "a")?, text(b, "b")?))
}

/// char_f1 over two equally long lists; releases the GIL.
#[pyfunction]
fn char_f1_batch(
    py: Python<'_>,
    preds: Vec<Bound<'_, PyString>>,
    golds: Vec<Bound<'_, PyString>>,
) -> PyResult<Vec<f64>> {
    check_same_len(
        "char_f1_batch",
        ("preds", preds.len()),
        ("golds", golds.len()),
    )?;
    let preds = texts(&preds, "preds")?;
    let golds = texts(&golds, "golds")?;
    Ok(py.detach(move || fuzz::char_f1_batch(&preds, &golds)))
}

/// exact_match_figure over two equally long lists; releases the GIL.
#[pyfunction]
fn exact_match_figure_batch(
    py: Python<'_>,
    preds: Vec<Bound<'_, PyString>>,
    golds: Vec<Bound<'_, PyString>>,
) -> PyResult<Vec<f64>> {
    check_same_len(
        "exact_match_figure_batch",
        ("preds", preds.len()),
        ("golds", golds.len()),
    )?;
    let preds = texts(&preds, "preds")?;
    let golds = texts(&golds, "golds")?;
    Ok(py.detach(move || {
        preds
            .iter()
            .zip(&golds)
            .map(|(p, g)| crate::exact_match_figure(p, g))
            .collect()
    }))
}

/// normalize_prediction over a list (one task); releases the GIL.
#[pyfunction]
fn normalize_prediction_batch(
    py: Python<'_>,
    raws: Vec<Bound<'_, PyString>>,
    task: &Bound<'_, PyString>,
) -> PyResult<Vec<String>> {
    let raws = texts(&raws, "raws")?;
    let task = text(task, "task")?.to_owned();
    Ok(py.detach(move || {
        raws.iter()
            .map(|r| normalize::normalize_prediction(r, &task))
            .collect()
    }))
}

/// Jaster Control check: 1.0 / 0.0, or None for no_check tasks. Unknown task → ValueError.
#[pyfunction]
fn control_check(task: &Bound<'_, PyString>, pred: &Bound<'_, PyString>) -> PyResult<Option<f64>> {
    control::control_check(text(task, "task")?, text(pred, "pred")?)
        .map_err(|e| PyValueError::new_err(e.to_string()))
}

/// {"$":"A","&":"B","#":"C","@":"D"}.get(s, s)
#[pyfunction]
fn convert_symbol_choice(s: &Bound<'_, PyString>) -> PyResult<String> {
    Ok(robust::convert_symbol_choice(text(s, "s")?).to_owned())
}

/// {"B,C,D":"A","A,C,D":"B","A,B,D":"C","A,B,C":"D"}.get(s, s)
#[pyfunction]
fn convert_incorrect_choice(s: &Bound<'_, PyString>) -> PyResult<String> {
    Ok(robust::convert_incorrect_choice(text(s, "s")?).to_owned())
}

/// JMMLU robustness score of one item (1.0 / 0.5 / 0.0).
#[pyfunction]
fn robust_consistency(
    normal: &Bound<'_, PyString>,
    symbol: &Bound<'_, PyString>,
    incorrect: &Bound<'_, PyString>,
) -> PyResult<f64> {
    Ok(robust::robust_consistency(
        text(normal, "normal")?,
        text(symbol, "symbol")?,
        text(incorrect, "incorrect")?,
    ))
}

#[pymodule]
fn nejumi_scorers(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("UNICODE_VERSION", crate::unicode_tables::UNICODE_VERSION)?;
    m.add_function(wrap_pyfunction!(text_formatter, m)?)?;
    m.add_function(wrap_pyfunction!(normalize_prediction, m)?)?;
    m.add_function(wrap_pyfunction!(normalize_reference, m)?)?;
    m.add_function(wrap_pyfunction!(exact_match, m)?)?;
    m.add_function(wrap_pyfunction!(exact_match_figure, m)?)?;
    m.add_function(wrap_pyfunction!(char_f1, m)?)?;
    m.add_function(wrap_pyfunction!(token_sort_ratio, m)?)?;
    m.add_function(wrap_pyfunction!(char_f1_batch, m)?)?;
    m.add_function(wrap_pyfunction!(exact_match_figure_batch, m)?)?;
    m.add_function(wrap_pyfunction!(normalize_prediction_batch, m)?)?;
    m.add_function(wrap_pyfunction!(control_check, m)?)?;
    m.add_function(wrap_pyfunction!(convert_symbol_choice, m)?)?;
    m.add_function(wrap_pyfunction!(convert_incorrect_choice, m)?)?;
    m.add_function(wrap_pyfunction!(robust_consistency, m)?)?;
    crate::python_arc::register(m)?;
    crate::python_bfcl::register(m)?;
    Ok(())
}
