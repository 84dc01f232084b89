//! Thin pyo3 layer: argument conversion, error mapping and GIL release only.

use pyo3::exceptions::{PyRuntimeError, PyTypeError, PyValueError};
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyFloat, PyString};
use pyo3::Borrowed;

use crate::fuzz::CodePoints;
use crate::{control, fuzz, normalize, robust};

/// The UTF-8 text of `s`, borrowed from the string object (CPython caches it there).
fn text<'a>(s: &'a Bound<'_, PyString>, arg: &str) -> PyResult<&'a str> {
    s.to_str()
        .map_err(|e| PyValueError::new_err(format!("{arg}: not valid Unicode text: {e}")))
}

fn texts(items: &[Bound<'_, PyString>], arg: &str) -> PyResult<Vec<String>> {
    items
        .iter()
        .enumerate()
        .map(|(i, s)| text(s, &format!("{arg}[{i}]")).map(str::to_owned))
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

/// The code points of `s`, borrowed from the string's own storage (CPython keeps one,
/// two or four bytes per code point; lone surrogates included, the scorer rejects them).
/// No copy, no UTF-8 round trip and no call into the interpreter: `char_f1` works on code
/// points, and copying them out (`PyUnicode_AsUCS4`) cost ≈15 % of a short answer pair.
#[inline(always)]
fn code_points<'a>(s: &'a Bound<'_, PyString>) -> PyResult<CodePoints<'a>> {
    let ptr = s.as_ptr();
    // SAFETY: `ptr` is a live `str` object and the GIL is held (we have a `Bound`); a
    // `str` is immutable, and `s` keeps it alive for 'a. After `PyUnicode_READY` (a
    // no-op from 3.12) its data holds `PyUnicode_GET_LENGTH` units of `PyUnicode_KIND`
    // bytes each.
    unsafe {
        if ffi::PyUnicode_READY(ptr) != 0 {
            return Err(PyErr::fetch(s.py()));
        }
        let Ok(n) = usize::try_from(ffi::PyUnicode_GET_LENGTH(ptr)) else {
            return Err(PyErr::fetch(s.py()));
        };
        if n == 0 {
            return Ok(CodePoints::Latin1(&[]));
        }
        let data = ffi::PyUnicode_DATA(ptr);
        match ffi::PyUnicode_KIND(ptr) {
            ffi::PyUnicode_1BYTE_KIND => Ok(CodePoints::Latin1(std::slice::from_raw_parts(
                data.cast::<u8>(),
                n,
            ))),
            ffi::PyUnicode_2BYTE_KIND => Ok(CodePoints::Ucs2(std::slice::from_raw_parts(
                data.cast::<u16>(),
                n,
            ))),
            ffi::PyUnicode_4BYTE_KIND => Ok(CodePoints::Ucs4(std::slice::from_raw_parts(
                data.cast::<u32>(),
                n,
            ))),
            kind => Err(PyValueError::new_err(format!(
                "str storage of {kind} bytes per code point is not CPython's 1, 2 or 4"
            ))),
        }
    }
}

fn invalid_text(arg: &str, e: fuzz::InvalidCodePoint) -> PyErr {
    PyValueError::new_err(format!("{arg}: not valid Unicode text: {e}"))
}

/// The 101 values `char_f1` can return (`ratio / 100.0` for `ratio` in 0..=100), built
/// once: a new reference to one of them costs far less than a new float per call.
static CHAR_F1_VALUES: PyOnceLock<Vec<Py<PyFloat>>> = PyOnceLock::new();

/// `token_sort_ratio / 100.0` as a Python float.
fn char_f1_value(py: Python<'_>, ratio: u32) -> PyResult<Py<PyFloat>> {
    let values = CHAR_F1_VALUES.get_or_init(py, || {
        (0..=100u32)
            .map(|r| PyFloat::new(py, f64::from(r) / 100.0).unbind())
            .collect()
    });
    values
        .get(ratio as usize)
        .map(|v| v.clone_ref(py))
        .ok_or_else(|| PyValueError::new_err(format!("token_sort_ratio {ratio} above 100")))
}

/// fuzzywuzzy.fuzz.token_sort_ratio(pred, gold) / 100.0.
fn char_f1(
    py: Python<'_>,
    pred: &Bound<'_, PyString>,
    gold: &Bound<'_, PyString>,
) -> PyResult<Py<PyFloat>> {
    let (a, b) = (code_points(pred)?, code_points(gold)?);
    match fuzz::with_scratch(|scratch| scratch.token_sort_ratio_of(a, b)) {
        Ok(r) => char_f1_value(py, r),
        Err((0, e)) => Err(invalid_text("pred", e)),
        Err((_, e)) => Err(invalid_text("gold", e)),
    }
}

/// What a plain `METH_FASTCALL` function hands back to CPython: a new reference, or NULL
/// with the exception set. Nothing in `body` panics (clippy denies it); should it, Python
/// gets a `RuntimeError` naming `function` instead of an unwind into C.
#[inline(always)]
pub(crate) fn fastcall_return<T>(
    py: Python<'_>,
    function: &str,
    body: impl FnOnce() -> PyResult<Py<T>>,
) -> *mut ffi::PyObject {
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(body))
        .unwrap_or_else(|_| Err(internal_error(function)));
    match result {
        Ok(value) => value.into_ptr(),
        Err(err) => {
            err.restore(py);
            std::ptr::null_mut()
        }
    }
}

#[cold]
fn internal_error(function: &str) -> PyErr {
    PyRuntimeError::new_err(format!("{function}: internal error"))
}

/// `args[i]` of a `METH_FASTCALL` call as a `str`, or a pyo3-style `TypeError` naming
/// `function` and `arg`.
///
/// # Safety
/// `args` must hold at least `i + 1` borrowed references that outlive `'a`, as CPython
/// passes them for the duration of the call.
#[inline(always)]
pub(crate) unsafe fn fastcall_str<'a, 'py>(
    py: Python<'py>,
    args: *mut *mut ffi::PyObject,
    i: usize,
    (function, arg): (&str, &str),
) -> PyResult<Borrowed<'a, 'py, PyString>> {
    // SAFETY: the caller guarantees `args[i]` is a live borrowed reference.
    let object = unsafe { Borrowed::from_ptr(py, *args.add(i)) };
    object
        .cast::<PyString>()
        .map_err(|e| PyTypeError::new_err(format!("{function}() argument '{arg}': {e}")))
}

/// The error for a `METH_FASTCALL` call with the wrong number of positional arguments.
#[cold]
pub(crate) fn wrong_arg_count(function: &str, want: usize, got: ffi::Py_ssize_t) -> PyErr {
    let s = if want == 1 { "" } else { "s" };
    PyTypeError::new_err(format!(
        "{function}() takes exactly {want} positional argument{s} ({got} given)"
    ))
}

/// `char_f1` as a plain `METH_FASTCALL` C function, registered by [`add_char_f1`]: the
/// per-item scorer is called once per prediction, and pyo3's argument machinery
/// (keyword handling, the attach guard) costs about as much as scoring a short answer.
/// Positional arguments only.
unsafe extern "C" fn char_f1_fastcall(
    _module: *mut ffi::PyObject,
    args: *mut *mut ffi::PyObject,
    nargs: ffi::Py_ssize_t,
) -> *mut ffi::PyObject {
    // SAFETY: CPython calls a METH_FASTCALL function attached to the interpreter, with
    // `nargs` borrowed references at `args`.
    let py = unsafe { Python::assume_attached() };
    fastcall_return(py, "char_f1", || {
        if nargs != 2 {
            return Err(wrong_arg_count("char_f1", 2, nargs));
        }
        // SAFETY: as above, `args` holds two borrowed references, alive for the call.
        let (pred, gold) = unsafe {
            (
                fastcall_str(py, args, 0, ("char_f1", "pred"))?,
                fastcall_str(py, args, 1, ("char_f1", "gold"))?,
            )
        };
        char_f1(py, &pred, &gold)
    })
}

/// Adds [`char_f1_fastcall`] to `m` as `char_f1`.
fn add_char_f1(m: &Bound<'_, PyModule>) -> PyResult<()> {
    // The function object keeps a pointer to its definition: one per module object,
    // never freed (a few dozen bytes).
    let def = Box::leak(Box::new(ffi::PyMethodDef {
        ml_name: c"char_f1".as_ptr(),
        ml_meth: ffi::PyMethodDefPointer {
            PyCFunctionFast: char_f1_fastcall,
        },
        ml_flags: ffi::METH_FASTCALL,
        ml_doc:
            c"char_f1(pred, gold, /)\n--\n\nfuzzywuzzy.fuzz.token_sort_ratio(pred, gold) / 100.0."
                .as_ptr(),
    }));
    let name = m.name()?;
    // SAFETY: `def` lives forever; `m` and `name` are live objects.
    let function = unsafe {
        Bound::from_owned_ptr_or_err(
            m.py(),
            ffi::PyCFunction_NewEx(def, m.as_ptr(), name.as_ptr()),
        )?
    };
    m.add("char_f1", function)
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
) -> PyResult<Vec<Py<PyFloat>>> {
    check_same_len(
        "char_f1_batch",
        ("preds", preds.len()),
        ("golds", golds.len()),
    )?;
    // Per chunk: copies of its strings in their storage forms, back to back (pred i,
    // then gold i), taken with the GIL; then the scoring without it (on several cores
    // when the chunk is large). Sequential copies stream through the cache; the strings
    // themselves lie scattered over the heap. Chunks keep the buffers small.
    const CHUNK: usize = 16_384;
    let mut scores = Vec::with_capacity(preds.len());
    let mut strings = fuzz::CodePointsBuffer::default();
    for (pc, gc) in preds.chunks(CHUNK).zip(golds.chunks(CHUNK)) {
        strings.clear();
        for (p, g) in pc.iter().zip(gc) {
            strings.push(code_points(p)?);
            strings.push(code_points(g)?);
        }
        let first = scores.len();
        let chunk = py
            .detach(|| fuzz::token_sort_ratio_batch(&strings))
            .map_err(|(i, which, e)| {
                let arg = if which == 0 { "preds" } else { "golds" };
                invalid_text(&format!("{arg}[{}]", first + i), e)
            })?;
        for r in chunk {
            scores.push(char_f1_value(py, r)?);
        }
    }
    Ok(scores)
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
    add_char_f1(m)?;
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
