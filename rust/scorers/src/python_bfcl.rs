//! Thin pyo3 layer for BFCL single-turn scoring ([`crate::bfcl`]).

use std::sync::{Arc, Mutex};

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedStr;
use pyo3::types::PyTuple;
use pyo3::Borrowed;

use crate::bfcl::{self, BfclError, Language, Prepared, Verdict};
use crate::python;

fn to_py_err(e: BfclError) -> PyErr {
    PyValueError::new_err(e.to_string())
}

type PyVerdict = Py<PyTuple>;

/// The `(valid, error_type)` tuple of each distinct verdict, built once: there are only a
/// few dozen, and handing out a new reference costs far less than building a tuple and a
/// string per item.
type VerdictCache = Vec<(Verdict, Py<PyTuple>)>;

static VERDICT_TUPLES: Mutex<VerdictCache> = Mutex::new(Vec::new());

fn cached_verdict(py: Python<'_>, cache: &mut VerdictCache, v: Verdict) -> PyResult<PyVerdict> {
    // Error types are `&'static str` constants: comparing addresses finds the entry
    // without comparing text. The text comparison only runs for an address not seen
    // yet, which then gets an entry of its own (sharing the tuple).
    let same_address = |k: &Verdict| {
        k.valid == v.valid
            && match (k.error_type, v.error_type) {
                (None, None) => true,
                (Some(a), Some(b)) => std::ptr::eq(a, b),
                _ => false,
            }
    };
    if let Some((_, t)) = cache.iter().find(|(k, _)| same_address(k)) {
        return Ok(t.clone_ref(py));
    }
    let t = match cache.iter().find(|(k, _)| *k == v) {
        Some((_, t)) => t.clone_ref(py),
        None => {
            let valid = v.valid.into_pyobject(py)?.to_owned().into_any();
            let error_type = v.error_type.into_pyobject(py)?.into_any();
            PyTuple::new(py, [valid, error_type])?.unbind()
        }
    };
    cache.push((v, t.clone_ref(py)));
    Ok(t)
}

fn verdict_cache() -> PyResult<std::sync::MutexGuard<'static, VerdictCache>> {
    VERDICT_TUPLES
        .lock()
        .map_err(|_| PyValueError::new_err("verdict cache poisoned"))
}

fn py_verdicts(py: Python<'_>, vs: impl IntoIterator<Item = Verdict>) -> PyResult<Vec<PyVerdict>> {
    let mut cache = verdict_cache()?;
    vs.into_iter()
        .map(|v| cached_verdict(py, &mut cache, v))
        .collect()
}

fn py_verdict(py: Python<'_>, v: Verdict) -> PyResult<PyVerdict> {
    cached_verdict(py, &mut *verdict_cache()?, v)
}

/// `(valid, error_type)` for one single-turn item.
#[pyfunction]
#[pyo3(signature = (category, raw_output, functions_json, possible_answer_json=None))]
fn bfcl_check(
    py: Python<'_>,
    category: &str,
    raw_output: &str,
    functions_json: &str,
    possible_answer_json: Option<&str>,
) -> PyResult<PyVerdict> {
    // One item is too little work to be worth releasing the GIL.
    let verdict = bfcl::check_json(category, raw_output, functions_json, possible_answer_json)
        .map_err(to_py_err)?;
    py_verdict(py, verdict)
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
    py_verdicts(py, verdicts)
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
}

/// `BfclItem.check(raw_output, /)`: `(valid, error_type)` for one model output, the same
/// verdict as `bfcl_check`. A plain `METH_FASTCALL` method (added by [`add_check`]) rather
/// than a `#[pymethods]` one: it is called once per model output, and pyo3's method
/// machinery cost about a tenth of a Python-syntax item's check.
unsafe extern "C" fn check_fastcall(
    item: *mut ffi::PyObject,
    args: *mut *mut ffi::PyObject,
    nargs: ffi::Py_ssize_t,
) -> *mut ffi::PyObject {
    const NAME: &str = "BfclItem.check";
    // SAFETY: CPython calls a METH_FASTCALL method attached to the interpreter, with the
    // instance and `nargs` borrowed references at `args`.
    let py = unsafe { Python::assume_attached() };
    python::fastcall_return(py, NAME, || {
        if nargs != 1 {
            return Err(python::wrong_arg_count(NAME, 1, nargs));
        }
        // SAFETY: as above; the method descriptor has checked that `item` is a BfclItem.
        let (item, raw_output) = unsafe {
            (
                Borrowed::from_ptr(py, item),
                python::fastcall_str(py, args, 0, (NAME, "raw_output"))?,
            )
        };
        let item = item
            .cast::<BfclItem>()
            .map_err(|e| PyTypeError::new_err(format!("{NAME}(): {e}")))?;
        let verdict = item
            .get()
            .inner
            .check(raw_output.to_str()?)
            .map_err(to_py_err)?;
        py_verdict(py, verdict)
    })
}

/// Adds [`check_fastcall`] to the `BfclItem` type as its `check` method.
fn add_check(py: Python<'_>) -> PyResult<()> {
    // The descriptor keeps a pointer to its definition: made once per module
    // initialisation and never freed (a few dozen bytes).
    let def = Box::leak(Box::new(ffi::PyMethodDef {
        ml_name: c"check".as_ptr(),
        ml_meth: ffi::PyMethodDefPointer {
            PyCFunctionFast: check_fastcall,
        },
        ml_flags: ffi::METH_FASTCALL,
        ml_doc: c"check($self, raw_output, /)\n--\n\n(valid, error_type) for one model output; the same verdict as bfcl_check.".as_ptr(),
    }));
    let item_type = py.get_type::<BfclItem>();
    // SAFETY: `def` lives forever and `item_type` is the live BfclItem type object.
    let method = unsafe {
        Bound::from_owned_ptr_or_err(py, ffi::PyDescr_NewMethod(item_type.as_type_ptr(), def))?
    };
    item_type.setattr("check", method)
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

/// `items[i].check(raw_outputs[i])` for every `i` (GIL released, large batches on all
/// cores); errors name the first failing index.
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
    py_verdicts(py, verdicts)
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
    add_check(m.py())?;
    m.add_function(wrap_pyfunction!(bfcl_check, m)?)?;
    m.add_function(wrap_pyfunction!(bfcl_check_batch, m)?)?;
    m.add_function(wrap_pyfunction!(bfcl_prepare, m)?)?;
    m.add_function(wrap_pyfunction!(bfcl_check_prepared_batch, m)?)?;
    m.add_function(wrap_pyfunction!(bfcl_decode_ast, m)?)?;
    Ok(())
}
