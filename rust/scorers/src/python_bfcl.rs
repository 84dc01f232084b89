//! Thin pyo3 layer for BFCL single-turn scoring ([`crate::bfcl`]).

use std::sync::Arc;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedStr;

use crate::bfcl::{self, BfclError, Language, Prepared, Verdict};

fn to_py_err(e: BfclError) -> PyErr {
    PyValueError::new_err(e.to_string())
}

/// `(valid, error_type)`: `error_type` is `None` when valid.
type PyVerdict = (bool, Option<&'static str>);

fn py_verdict(v: Verdict) -> PyVerdict {
    (v.valid, v.error_type)
}

/// `(valid, error_type)` for one single-turn item.
#[pyfunction]
#[pyo3(signature = (category, raw_output, functions_json, possible_answer_json=None))]
fn bfcl_check(
    category: &str,
    raw_output: &str,
    functions_json: &str,
    possible_answer_json: Option<&str>,
) -> PyResult<PyVerdict> {
    // One item is too little work to be worth releasing the GIL.
    bfcl::check_json(category, raw_output, functions_json, possible_answer_json)
        .map(py_verdict)
        .map_err(to_py_err)
}

/// `bfcl_check` over a batch (GIL released); errors name the failing index.
#[pyfunction]
fn bfcl_check_batch(
    py: Python<'_>,
    category: &str,
    raw_outputs: Vec<PyBackedStr>,
    functions_json: Vec<PyBackedStr>,
    possible_answers_json: Vec<Option<PyBackedStr>>,
) -> PyResult<Vec<PyVerdict>> {
    if raw_outputs.len() != functions_json.len() || raw_outputs.len() != possible_answers_json.len()
    {
        return Err(PyValueError::new_err(format!(
            "bfcl_check_batch: raw_outputs, functions_json and possible_answers_json must have the same length (got {}, {} and {})",
            raw_outputs.len(),
            functions_json.len(),
            possible_answers_json.len()
        )));
    }
    let raws: Vec<&str> = raw_outputs.iter().map(|r| &**r).collect();
    let functions: Vec<&str> = functions_json.iter().map(|f| &**f).collect();
    let answers: Vec<Option<&str>> = possible_answers_json.iter().map(|a| a.as_deref()).collect();
    let verdicts = py
        .detach(|| bfcl::check_json_batch(category, &raws, &functions, &answers))
        .map_err(|(i, e)| PyValueError::new_err(format!("item {i}: {e}")))?;
    Ok(verdicts.into_iter().map(py_verdict).collect())
}

/// One dataset item (category, function docs, possible answer) parsed once; `check`
/// scores model outputs against it. Immutable and shareable across threads.
#[pyclass(frozen, name = "BfclItem", module = "nejumi_scorers")]
pub struct BfclItem {
    inner: Arc<Prepared>,
}

#[pymethods]
impl BfclItem {
    #[getter]
    fn category(&self) -> &'static str {
        self.inner.category().name()
    }

    fn __repr__(&self) -> String {
        format!("BfclItem(category={:?})", self.inner.category().name())
    }

    /// `(valid, error_type)` for one model output; the same verdict as `bfcl_check`.
    fn check(&self, raw_output: &str) -> PyResult<PyVerdict> {
        self.inner
            .check(raw_output)
            .map(py_verdict)
            .map_err(to_py_err)
    }

    /// `(valid, error_type)` for the structured tool calls of a function-calling model:
    /// `calls` is a list of `(name, arguments_json)`, decoded as upstream's FC handlers
    /// do (`[{name: json.loads(arguments)}]`) and then checked like `check`'s calls.
    /// Arguments that are not valid JSON give `ast_decoder:decoder_failed`.
    #[pyo3(signature = (calls, underscore_to_dot=true))]
    fn check_tool_calls(
        &self,
        calls: Vec<(PyBackedStr, PyBackedStr)>,
        underscore_to_dot: bool,
    ) -> PyResult<PyVerdict> {
        let calls: Vec<(&str, &str)> = calls.iter().map(|(n, a)| (&**n, &**a)).collect();
        self.inner
            .check_tool_calls(&calls, underscore_to_dot)
            .map(py_verdict)
            .map_err(to_py_err)
    }
}

/// Parse one item's docs and possible answer once (`bfcl_check`'s inputs minus the output).
#[pyfunction]
#[pyo3(signature = (category, functions_json, possible_answer_json=None))]
fn bfcl_prepare(
    category: &str,
    functions_json: &str,
    possible_answer_json: Option<&str>,
) -> PyResult<BfclItem> {
    let inner = Prepared::new(category, functions_json, possible_answer_json).map_err(to_py_err)?;
    Ok(BfclItem {
        inner: Arc::new(inner),
    })
}

/// `items[i].check(raw_outputs[i])` for every `i` (GIL released); errors name the first
/// failing index.
#[pyfunction]
fn bfcl_check_prepared_batch(
    py: Python<'_>,
    items: Vec<Bound<'_, BfclItem>>,
    raw_outputs: Vec<PyBackedStr>,
) -> PyResult<Vec<PyVerdict>> {
    crate::python::check_same_len(
        "bfcl_check_prepared_batch",
        ("items", items.len()),
        ("raw_outputs", raw_outputs.len()),
    )?;
    let prepared: Vec<Arc<Prepared>> = items.iter().map(|b| Arc::clone(&b.get().inner)).collect();
    let outputs: Vec<&str> = raw_outputs.iter().map(|r| &**r).collect();
    let verdicts = py
        .detach(|| bfcl::check_prepared_batch(&prepared, &outputs))
        .map_err(|(i, e)| PyValueError::new_err(format!("item {i}: {e}")))?;
    Ok(verdicts.into_iter().map(py_verdict).collect())
}

/// The decoded calls as JSON (debugging); raises `ValueError` where upstream's decoder raises.
#[pyfunction]
fn bfcl_decode_ast(raw_output: &str, language: &str) -> PyResult<String> {
    let lang = match language {
        "Python" | "python" => Language::Python,
        "Java" | "java" => Language::Java,
        "JavaScript" | "javascript" => Language::JavaScript,
        other => {
            return Err(PyValueError::new_err(format!(
                "language must be Python, Java or JavaScript (got {other:?})"
            )))
        }
    };
    bfcl::decode_ast_json(raw_output, lang)
        .map_err(|e| PyValueError::new_err(format!("decoder failed: {}", e.0)))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<BfclItem>()?;
    m.add_function(wrap_pyfunction!(bfcl_check, m)?)?;
    m.add_function(wrap_pyfunction!(bfcl_check_batch, m)?)?;
    m.add_function(wrap_pyfunction!(bfcl_prepare, m)?)?;
    m.add_function(wrap_pyfunction!(bfcl_check_prepared_batch, m)?)?;
    m.add_function(wrap_pyfunction!(bfcl_decode_ast, m)?)?;
    Ok(())
}
