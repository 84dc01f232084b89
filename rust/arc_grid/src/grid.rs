//! Upstream's correctness check on a parsed prediction, with numpy 1.26.4's
//! `np.array(y_pred, np.int8)`.
//!
//! Upstream, inside `try: ... except (ValueError, TypeError): correct = False`:
//! 1. no row may be empty, all rows the same length (plain Python checks);
//! 2. `y_pred_arr = np.array(y_pred, np.int8)`;
//! 3. any value `< 0` or `> 9` → wrong;
//! 4. `expected_arr.shape == y_pred_arr.shape and np.all(y_pred_arr == expected_arr)`.
//!
//! numpy 1.26 first discovers the shape of the nested lists (ragged nesting, or more than
//! 32 dimensions → `ValueError`), then stores every leaf in C order through `BYTE_setitem`,
//! and the first failing leaf decides the exception:
//! * `bool` → 1/0;
//! * `int` → C `long` (outside i64 → `OverflowError`), then wraps to int8 (`257 → 1`,
//!   `-129 → 127`; numpy only emits a `DeprecationWarning`);
//! * `float` → `int(x)`: truncates toward zero (`1.7 → 1`, `-1.7 → -1`, `257.9 → 1`);
//!   `nan` → `ValueError`; `±inf` or `|trunc(x)| ≥ 2**63` → `OverflowError`;
//! * `str` → `int(s)` (see [`crate::pyint`]), then as an int; `"3.0"` → `ValueError`;
//! * `None`, `dict` → `TypeError`.
//!
//! `ValueError`/`TypeError` make the attempt wrong. `OverflowError` is not caught upstream
//! and aborts the evaluation; it is reported as [`UpstreamError::Int8Overflow`].

use crate::json::Value;
use crate::pyint::{parse_py_int, PyInt};
use crate::{Failure, Reason, UpstreamError, Verdict};

/// numpy's `NPY_MAXDIMS` in 1.26.
pub const NUMPY_MAX_DIMS: usize = 32;

/// A rectangular 2-D int8 grid (row-major).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grid {
    height: usize,
    width: usize,
    cells: Vec<i8>,
}

/// Why a grid could not be built from rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GridError {
    /// No rows.
    Empty,
    /// A row without cells.
    EmptyRow,
    /// Rows of different lengths.
    Ragged,
}

impl std::fmt::Display for GridError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            GridError::Empty => "grid has no rows",
            GridError::EmptyRow => "grid has an empty row",
            GridError::Ragged => "grid rows differ in length",
        })
    }
}

impl std::error::Error for GridError {}

impl Grid {
    /// A grid from rows of int8 values.
    pub fn new<R: AsRef<[i8]>>(rows: &[R]) -> Result<Self, GridError> {
        Self::build(rows, |&v| v)
    }

    /// A grid from Python ints, wrapped like `np.array(rows, np.int8)` (`257 → 1`).
    pub fn from_i64<R: AsRef<[i64]>>(rows: &[R]) -> Result<Self, GridError> {
        Self::build(rows, |&v| wrap_i8(v))
    }

    fn build<T, R: AsRef<[T]>>(rows: &[R], cast: impl Fn(&T) -> i8) -> Result<Self, GridError> {
        let width = rows.first().ok_or(GridError::Empty)?.as_ref().len();
        let mut cells = Vec::with_capacity(width * rows.len());
        for row in rows {
            let row = row.as_ref();
            if row.is_empty() {
                return Err(GridError::EmptyRow);
            }
            if row.len() != width {
                return Err(GridError::Ragged);
            }
            cells.extend(row.iter().map(&cast));
        }
        Ok(Grid {
            height: rows.len(),
            width,
            cells,
        })
    }

    /// Number of rows.
    pub fn height(&self) -> usize {
        self.height
    }

    /// Number of columns.
    pub fn width(&self) -> usize {
        self.width
    }

    /// `(height, width)`, numpy's `shape`.
    pub fn shape(&self) -> (usize, usize) {
        (self.height, self.width)
    }

    /// Cells in row-major order.
    pub fn cells(&self) -> &[i8] {
        &self.cells
    }

    /// Rows as nested vectors.
    pub fn to_rows(&self) -> Vec<Vec<i8>> {
        self.cells
            .chunks(self.width.max(1))
            .map(<[i8]>::to_vec)
            .collect()
    }

    /// Every cell in `0..=9` (upstream's ARC colour range check).
    pub fn in_colour_range(&self) -> bool {
        self.cells.iter().all(|c| (0..=9).contains(c))
    }
}

/// C `(npy_byte)long_value`: two's-complement wrap.
#[inline]
pub fn wrap_i8(v: i64) -> i8 {
    v as i8
}

/// numpy 1.26 `BYTE_setitem` on one scalar (never a list).
pub fn cast_scalar(v: &Value) -> Result<i8, Failure> {
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    match v {
        Value::Bool(b) => Ok(i8::from(*b)),
        Value::Int(i) => Ok(wrap_i8(*i)),
        Value::BigInt(_) => Err(Failure::Upstream(UpstreamError::Int8Overflow)),
        Value::Float(x) => {
            if x.is_nan() {
                Err(Failure::Incorrect(Reason::CastError))
            } else {
                let t = x.trunc();
                if (-TWO_63..TWO_63).contains(&t) {
                    Ok(wrap_i8(t as i64))
                } else {
                    Err(Failure::Upstream(UpstreamError::Int8Overflow))
                }
            }
        }
        Value::Str(s) => match parse_py_int(s) {
            Some(PyInt::Small(i)) => Ok(wrap_i8(i)),
            Some(PyInt::Big) => Err(Failure::Upstream(UpstreamError::Int8Overflow)),
            None => Err(Failure::Incorrect(Reason::CastError)),
        },
        // `None`, `dict`: TypeError. A list here is a ragged array: ValueError.
        Value::Null | Value::Object(_) | Value::List(_) => {
            Err(Failure::Incorrect(Reason::CastError))
        }
    }
}

/// Steps 1–2 on `backscan_json_parser`'s rows: the int8 grid, values not yet range-checked.
pub fn cast_rows(rows: &[Vec<Value>]) -> Result<Grid, Failure> {
    let width = match rows.first() {
        Some(first) => first.len(),
        None => return Err(Failure::Incorrect(Reason::NotListOfLists)),
    };
    if rows.iter().any(Vec::is_empty) {
        return Err(Failure::Incorrect(Reason::EmptyRow));
    }
    if rows.iter().any(|r| r.len() != width) {
        return Err(Failure::Incorrect(Reason::Ragged));
    }
    if rows.iter().flatten().any(|v| matches!(v, Value::List(_))) {
        return Err(cast_nd(rows));
    }
    let mut cells = Vec::with_capacity(width * rows.len());
    for v in rows.iter().flatten() {
        cells.push(cast_scalar(v)?);
    }
    Ok(Grid {
        height: rows.len(),
        width,
        cells,
    })
}

/// Rows whose cells hold lists: numpy either rejects the nesting (`ValueError`) or builds
/// a ≥3-D array, which can never match a 2-D expected grid — unless a leaf raises first.
fn cast_nd(rows: &[Vec<Value>]) -> Failure {
    let mut shape = vec![rows.len(), rows.first().map_or(0, Vec::len)];
    let mut node = rows.first().and_then(|r| r.first());
    while let Some(Value::List(items)) = node {
        shape.push(items.len());
        node = items.first();
    }
    let dims = shape.get(2..).unwrap_or_default();
    let regular = rows.iter().flatten().all(|v| conforms(v, dims));
    if !regular || shape.len() > NUMPY_MAX_DIMS {
        return Failure::Incorrect(Reason::CastError);
    }
    match rows.iter().flatten().find_map(first_leaf_error) {
        Some(f) => f,
        None => Failure::Incorrect(Reason::NotTwoDimensional),
    }
}

fn conforms(v: &Value, dims: &[usize]) -> bool {
    match (v, dims.split_first()) {
        (Value::List(items), Some((&n, rest))) => {
            items.len() == n && items.iter().all(|x| conforms(x, rest))
        }
        (Value::List(_), None) | (_, Some(_)) => false,
        (_, None) => true,
    }
}

fn first_leaf_error(v: &Value) -> Option<Failure> {
    match v {
        Value::List(items) => items.iter().find_map(first_leaf_error),
        leaf => cast_scalar(leaf).err(),
    }
}

/// Steps 3–4: the verdict for a cast grid against the expected grid.
pub fn judge(pred: &Grid, expected: &Grid) -> Verdict {
    if !pred.in_colour_range() {
        Verdict::Incorrect(Reason::OutOfRange)
    } else if pred.shape() != expected.shape() {
        Verdict::Incorrect(Reason::ShapeMismatch)
    } else if pred.cells != expected.cells {
        Verdict::Incorrect(Reason::CellMismatch)
    } else {
        Verdict::Correct
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::loads;
    use crate::parse::backscan;

    fn cast(text: &str) -> Result<Vec<Vec<i8>>, Failure> {
        cast_rows(&backscan(text)?).map(|g| g.to_rows())
    }

    /// (model output, `Debug` of the cast rows or the failure). Every value was checked
    /// against numpy 1.26.4 / CPython 3.11.7.
    #[rustfmt::skip]
    const CASTS: &[(&str, &str)] = &[
        ("[[257, -129, 128, -1]]", "Ok([[1, 127, -128, -1]])"),
        ("[[9223372036854775807, -9223372036854775808]]", "Ok([[-1, 0]])"),
        ("[[9223372036854775808]]", OVERFLOW),
        ("[[-9223372036854775809]]", OVERFLOW),
        ("[[1.7, -1.7, 257.9, -0.0, 9.2e18, 0.99]]", "Ok([[1, -1, 1, 0, 0, 0]])"),
        ("[[-9.223372036854775808e18]]", "Ok([[0]])"),
        ("[[9.223372036854775807e18]]", OVERFLOW),
        ("[[1e20]]", OVERFLOW),
        ("[[Infinity]]", OVERFLOW),
        ("[[-Infinity]]", OVERFLOW),
        ("[[1e400]]", OVERFLOW),
        ("[[NaN]]", CAST_ERROR),
        (r#"[["3", " 3 ", "1_0", "３", "257", "+3", "-0", "007", "٣"]]"#, "Ok([[3, 3, 10, 3, 1, 3, 0, 7, 3]])"),
        (r#"[["99999999999999999999"]]"#, OVERFLOW),
        (r#"[[1, "3.0"]]"#, CAST_ERROR),
        (r#"[[1, ""]]"#, CAST_ERROR),
        (r#"[[1, "\u001c3"]]"#, CAST_ERROR),
        (r#"[[1, "0x10"]]"#, CAST_ERROR),
        (r#"[[1, "1e3"]]"#, CAST_ERROR),
        ("[[1, null]]", CAST_ERROR),
        ("[[1, {}]]", CAST_ERROR),
        ("[[true, false]]", "Ok([[1, 0]])"),
        // The first failing leaf decides.
        ("[[null, 1180591620717411303424]]", CAST_ERROR),
        ("[[1180591620717411303424, null]]", OVERFLOW),
        (r#"[[1, "ab"], [1e400, 2]]"#, CAST_ERROR),
        // Structure.
        ("[[]]", "Err(Incorrect(EmptyRow))"),
        ("[[1], []]", "Err(Incorrect(EmptyRow))"),
        ("[[1, 2], [3]]", "Err(Incorrect(Ragged))"),
        ("[[[1]]]", NOT_2D),
        ("[[[1, 2]], [[3, 4]]]", NOT_2D),
        ("[[[]]]", NOT_2D),
        ("[[[], []]]", NOT_2D),
        // numpy raises on inhomogeneous nesting before it looks at any value ...
        ("[[1, [2]]]", CAST_ERROR),
        ("[[[1e400], 1]]", CAST_ERROR),
        ("[[1e400, [1]]]", CAST_ERROR),
        ("[[[], [1]]]", CAST_ERROR),
        ("[[[1], {}]]", CAST_ERROR),
        // ... and fills regular ≥3-D arrays, so a bad leaf still raises.
        ("[[[1], [null]]]", CAST_ERROR),
        ("[[[Infinity]]]", OVERFLOW),
    ];
    const OVERFLOW: &str = "Err(Upstream(Int8Overflow))";
    const CAST_ERROR: &str = "Err(Incorrect(CastError))";
    const NOT_2D: &str = "Err(Incorrect(NotTwoDimensional))";

    #[test]
    fn numpy_126_int8_semantics() {
        for &(text, expected) in CASTS {
            assert_eq!(format!("{:?}", cast(text)), expected, "{text}");
        }
        // More than 32 dimensions: ValueError at discovery.
        let nest = |leaf: &str, d: usize| format!("{}{leaf}{}", "[".repeat(d), "]".repeat(d));
        for (leaf, depth, expected) in [
            ("Infinity", 32, OVERFLOW),
            ("Infinity", 33, CAST_ERROR),
            ("1", 40, CAST_ERROR),
            ("1", 32, NOT_2D),
        ] {
            assert_eq!(format!("{:?}", cast(&nest(leaf, depth))), expected);
        }
    }

    #[test]
    fn judging() {
        let expected = Grid::new(&[[1i8, 2], [3, 4]]).unwrap();
        #[rustfmt::skip]
        let cases = [
            ("[[1, 2], [3, 4]]", Verdict::Correct),
            ("[[1, 2], [3, 260]]", Verdict::Correct),
            ("[[1, 2], [3, 5]]", Verdict::Incorrect(Reason::CellMismatch)),
            ("[[1, 2, 3], [3, 4, 5]]", Verdict::Incorrect(Reason::ShapeMismatch)),
            ("[[1, 2], [3, 10]]", Verdict::Incorrect(Reason::OutOfRange)),
            ("[[1, 2], [3, -1]]", Verdict::Incorrect(Reason::OutOfRange)),
        ];
        for (text, verdict) in cases {
            let grid = cast_rows(&backscan(text).unwrap()).unwrap();
            assert_eq!(judge(&grid, &expected), verdict, "{text}");
        }
    }

    #[test]
    fn grid_construction() {
        assert_eq!(Grid::new::<[i8; 0]>(&[]), Err(GridError::Empty));
        assert_eq!(Grid::new(&[vec![1i8], vec![]]), Err(GridError::EmptyRow));
        assert_eq!(Grid::new(&[vec![1i8], vec![1, 2]]), Err(GridError::Ragged));
        let g = Grid::from_i64(&[[257i64, -1, 3]]).unwrap();
        assert_eq!(g.to_rows(), vec![vec![1, -1, 3]]);
        assert_eq!(g.shape(), (1, 3));
        assert!(!g.in_colour_range());
        assert!(matches!(loads("[1]"), Ok(Value::List(_))));
    }
}
