//! Upstream `ast_parse` / `resolve_ast_call` / `resolve_ast_by_type`
//! (`bfcl/model_handler/utils.py`), including its quirks, and the small evaluator
//! that stands in for `eval(ast.unparse(binop))`.

use std::borrow::Cow;

use num_bigint::BigInt;

use super::pyast::{unparse, BinOp, Expr, UnOp};
use super::pyparse::parse_eval;
use super::value::{dict_insert, int_to_float, Value};

/// One decoded call: `{name: {param: value}}`; a `None` param is `**mapping`.
#[derive(Debug, Clone)]
pub struct Call {
    pub name: String,
    pub args: Vec<(Option<String>, Value)>,
}

/// Why decoding failed (upstream raises and reports `ast_decoder:decoder_failed`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError(pub Cow<'static, str>);

type RResult<T> = Result<T, DecodeError>;

fn fail<T>(msg: impl Into<Cow<'static, str>>) -> RResult<T> {
    Err(DecodeError(msg.into()))
}

/// `ast_parse(input_str, "Python")`.
pub fn ast_parse_python(input: &str) -> RResult<Vec<Call>> {
    let cleaned = input.trim_matches(|c| c == '[' || c == ']' || c == '\'');
    // The message is informative only: upstream reports every failure as one error type.
    let body = parse_eval(cleaned).map_err(|e| DecodeError(e.0))?;
    match body {
        Expr::Call { .. } => Ok(vec![resolve_call(body)?]),
        Expr::List(elts) | Expr::Tuple(elts) | Expr::Set(elts) => elts
            .into_iter()
            .map(|e| match e {
                Expr::Call { .. } => resolve_call(e),
                _ => fail("AssertionError"),
            })
            .collect(),
        _ => fail("AttributeError: object has no attribute 'elts'"),
    }
}

/// `resolve_ast_call(elem)`.
fn resolve_call(e: Expr) -> RResult<Call> {
    let Expr::Call { func, keywords, .. } = e else {
        return fail("not a call");
    };
    let name = match *func {
        Expr::Name(n) => n,
        func => {
            let mut parts: Vec<&str> = Vec::new();
            let mut f: &Expr = &func;
            while let Expr::Attribute(v, attr) = f {
                parts.push(attr);
                f = v;
            }
            if let Expr::Name(n) = f {
                parts.push(n);
            }
            parts.reverse();
            parts.join(".")
        }
    };
    let mut args: Vec<(Option<String>, Value)> = Vec::with_capacity(keywords.len());
    for (k, v) in keywords {
        let value = resolve_value(v)?;
        // Python dict: a repeated key keeps its first position, takes the last value.
        if let Some(slot) = args
            .iter_mut()
            .find(|(k2, _)| k2.as_deref() == k.as_deref())
        {
            slot.1 = value;
        } else {
            args.push((k, value));
        }
    }
    Ok(Call { name, args })
}

/// The call as the value of an outer parameter: `{name: {param: value}}`.
pub(super) fn call_value(c: Call) -> Value {
    let inner = c
        .args
        .into_iter()
        .map(|(k, v)| (k.map_or(Value::None, Value::Str), v))
        .collect();
    Value::Dict(vec![(Value::Str(c.name), Value::Dict(inner))])
}

/// `resolve_ast_by_type(value)` (consumes the node: its strings move into the value).
pub fn resolve_value(e: Expr) -> RResult<Value> {
    match e {
        Expr::Constant(v, _) => Ok(v),
        Expr::Ellipsis => Ok(Value::str("...")),
        // `-value.operand.value`, whatever the operator.
        Expr::UnaryOp(_, operand) => match *operand {
            Expr::Constant(v, _) => neg(&v),
            Expr::Ellipsis => fail("TypeError: bad operand type for unary -: 'ellipsis'"),
            Expr::Attribute(..)
            | Expr::Subscript(..)
            | Expr::Starred(_)
            | Expr::NamedExpr(..)
            | Expr::Await(_)
            | Expr::YieldFrom(_)
            | Expr::Yield(_) => fail("TypeError: bad operand type for unary -"),
            _ => fail("AttributeError: object has no attribute 'value'"),
        },
        Expr::List(items) => items
            .into_iter()
            .map(resolve_value)
            .collect::<RResult<_>>()
            .map(Value::List),
        Expr::Dict(items) => {
            let mut out: Vec<(Value, Value)> = Vec::new();
            for (k, v) in items {
                let Some(k) = k else {
                    return fail("Exception: Unsupported AST type: <class 'NoneType'>");
                };
                let key = resolve_value(k)?;
                let val = resolve_value(v)?;
                if !key.hashable() {
                    return fail("TypeError: unhashable type");
                }
                dict_insert(&mut out, key, val);
            }
            Ok(Value::Dict(out))
        }
        Expr::BinOp(..) => eval(&e),
        Expr::Name(n) => Ok(Value::Str(n)),
        Expr::Call { ref keywords, .. } if keywords.is_empty() => unparse(&e)
            .map(Value::Str)
            .map_err(|u| DecodeError(u.0.into())),
        Expr::Call { .. } => Ok(call_value(resolve_call(e)?)),
        Expr::Tuple(items) => items
            .into_iter()
            .map(resolve_value)
            .collect::<RResult<_>>()
            .map(Value::Tuple),
        Expr::Lambda(..) => fail("TypeError: 'X' object is not subscriptable"),
        Expr::Subscript(v, slice) => {
            let a = unparse(&v).map_err(|u| DecodeError(u.0.into()))?;
            let b = unparse(&slice).map_err(|u| DecodeError(u.0.into()))?;
            Ok(Value::Str(format!("{a}[{b}]")))
        }
        _ => fail("Exception: Unsupported AST type"),
    }
}

/// Python unary minus.
fn neg(v: &Value) -> RResult<Value> {
    Ok(match v {
        Value::Bool(b) => Value::Int(-i64::from(*b)),
        Value::Int(i) => match i.checked_neg() {
            Some(n) => Value::Int(n),
            None => Value::from_bigint(-BigInt::from(*i)),
        },
        Value::Big(b) => Value::from_bigint(-b.clone()),
        Value::Float(f) => Value::Float(-f),
        Value::Complex(r, i) => Value::Complex(-r, -i),
        _ => return fail("TypeError: bad operand type for unary -"),
    })
}

fn big(v: &Value) -> Option<BigInt> {
    match v {
        Value::Bool(b) => Some(BigInt::from(u8::from(*b))),
        Value::Int(i) => Some(BigInt::from(*i)),
        Value::Big(b) => Some(b.clone()),
        _ => None,
    }
}

fn to_f64(v: &Value) -> RResult<Option<f64>> {
    Ok(match v {
        Value::Float(f) => Some(*f),
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        Value::Int(i) => Some(*i as f64),
        Value::Big(b) => Some(big_f64(b)?),
        _ => None,
    })
}

/// `float(b)`.
fn big_f64(b: &BigInt) -> RResult<f64> {
    int_to_float(b).ok_or(DecodeError(
        "OverflowError: int too large to convert to float".into(),
    ))
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::None => false,
        Value::Bool(b) => *b,
        Value::Int(i) => *i != 0,
        Value::Big(_) => true,
        Value::Float(f) => *f != 0.0,
        Value::Complex(r, i) => *r != 0.0 || *i != 0.0,
        Value::Str(s) => !s.is_empty(),
        Value::Bytes(b) => !b.is_empty(),
        Value::List(x) | Value::Tuple(x) => !x.is_empty(),
        Value::Dict(d) => !d.is_empty(),
    }
}

const MAX_SEQ: usize = 10_000_000;

/// `eval(ast.unparse(node))` for the expression forms that can be evaluated without
/// names or calls. Anything else is reported as unsupported (upstream would evaluate
/// it in the `utils` module namespace).
fn eval(e: &Expr) -> RResult<Value> {
    match e {
        Expr::Constant(v, _) => Ok(v.clone()),
        Expr::List(items) => items
            .iter()
            .map(eval)
            .collect::<RResult<_>>()
            .map(Value::List),
        Expr::Tuple(items) => items
            .iter()
            .map(eval)
            .collect::<RResult<_>>()
            .map(Value::Tuple),
        Expr::Dict(items) => {
            let mut out = Vec::new();
            for (k, v) in items {
                let Some(k) = k else {
                    return fail("unsupported: ** in evaluated dict");
                };
                let key = eval(k)?;
                if !key.hashable() {
                    return fail("TypeError: unhashable type");
                }
                let val = eval(v)?;
                dict_insert(&mut out, key, val);
            }
            Ok(Value::Dict(out))
        }
        Expr::UnaryOp(op, v) => {
            let v = eval(v)?;
            match op {
                UnOp::USub => neg(&v),
                UnOp::UAdd => match v {
                    Value::Bool(b) => Ok(Value::Int(i64::from(b))),
                    Value::Int(_) | Value::Big(_) | Value::Float(_) | Value::Complex(..) => Ok(v),
                    _ => fail("TypeError: bad operand type for unary +"),
                },
                UnOp::Invert => match big(&v) {
                    Some(b) => Ok(Value::from_bigint(-b - 1)),
                    None => fail("TypeError: bad operand type for unary ~"),
                },
                UnOp::Not => Ok(Value::Bool(!truthy(&v))),
            }
        }
        Expr::BinOp(l, op, r) => {
            let l = eval(l)?;
            let r = eval(r)?;
            binop(&l, *op, &r)
        }
        Expr::Name(n) => fail(format!(
            "unsupported: name '{n}' in an evaluated expression"
        )),
        _ => fail("unsupported expression in an evaluated binary operation"),
    }
}

/// The count of `seq * n` (a negative `n` counts 0); `MemoryError` past [`MAX_SEQ`]
/// items of `len` each.
fn times(len: usize, n: &Value) -> RResult<usize> {
    let n = big(n).map_or(0, |n| i64::try_from(&n).unwrap_or(i64::MAX).max(0) as usize);
    if len.saturating_mul(n) > MAX_SEQ {
        return fail("MemoryError");
    }
    Ok(n)
}

fn repeat(items: &[Value], n: usize) -> Vec<Value> {
    (0..n).flat_map(|_| items.iter().cloned()).collect()
}

fn py_floordiv(a: &BigInt, b: &BigInt) -> BigInt {
    let (q, r) = (a / b, a % b);
    if r != BigInt::from(0) && ((r < BigInt::from(0)) != (*b < BigInt::from(0))) {
        q - 1
    } else {
        q
    }
}

fn float_mod(a: f64, b: f64) -> f64 {
    let m = a % b;
    if m != 0.0 {
        if (b < 0.0) != (m < 0.0) {
            m + b
        } else {
            m
        }
    } else {
        0.0f64.copysign(b)
    }
}

fn binop(l: &Value, op: BinOp, r: &Value) -> RResult<Value> {
    use Value as V;
    // Sequences.
    match (l, op, r) {
        (V::Str(a), BinOp::Add, V::Str(b)) => return Ok(V::Str(format!("{a}{b}"))),
        (V::Bytes(a), BinOp::Add, V::Bytes(b)) => {
            return Ok(V::Bytes([a.clone(), b.clone()].concat()))
        }
        (V::List(a), BinOp::Add, V::List(b)) => {
            return Ok(V::List([a.clone(), b.clone()].concat()))
        }
        (V::Tuple(a), BinOp::Add, V::Tuple(b)) => {
            return Ok(V::Tuple([a.clone(), b.clone()].concat()))
        }
        // A str counts as one item against the limit.
        (V::Str(s), BinOp::Mult, n) | (n, BinOp::Mult, V::Str(s)) if big(n).is_some() => {
            return Ok(V::Str(s.repeat(times(1, n)?)));
        }
        (V::Bytes(b), BinOp::Mult, n) | (n, BinOp::Mult, V::Bytes(b)) if big(n).is_some() => {
            return Ok(V::Bytes(b.repeat(times(b.len(), n)?)));
        }
        (V::List(a), BinOp::Mult, n) | (n, BinOp::Mult, V::List(a)) if big(n).is_some() => {
            return Ok(V::List(repeat(a, times(a.len(), n)?)));
        }
        (V::Tuple(a), BinOp::Mult, n) | (n, BinOp::Mult, V::Tuple(a)) if big(n).is_some() => {
            return Ok(V::Tuple(repeat(a, times(a.len(), n)?)));
        }
        _ => {}
    }
    // bool op bool for & | ^ stays bool.
    if let (V::Bool(a), V::Bool(b)) = (l, r) {
        match op {
            BinOp::BitAnd => return Ok(V::Bool(a & b)),
            BinOp::BitOr => return Ok(V::Bool(a | b)),
            BinOp::BitXor => return Ok(V::Bool(a ^ b)),
            _ => {}
        }
    }
    if let (Some(a), Some(b)) = (big(l), big(r)) {
        return int_binop(&a, op, &b);
    }
    if matches!(l, V::Complex(..)) || matches!(r, V::Complex(..)) {
        let c = |v: &Value| -> RResult<Option<(f64, f64)>> {
            Ok(match v {
                V::Complex(re, im) => Some((*re, *im)),
                other => to_f64(other)?.map(|f| (f, 0.0)),
            })
        };
        let (Some((a, b)), Some((x, y))) = (c(l)?, c(r)?) else {
            return fail("TypeError: unsupported operand type(s)");
        };
        return match op {
            BinOp::Add => Ok(V::Complex(a + x, b + y)),
            BinOp::Sub => Ok(V::Complex(a - x, b - y)),
            BinOp::Mult => Ok(V::Complex(a * x - b * y, a * y + b * x)),
            BinOp::Div => {
                if x == 0.0 && y == 0.0 {
                    return fail("ZeroDivisionError: complex division by zero");
                }
                let d = x * x + y * y;
                Ok(V::Complex((a * x + b * y) / d, (b * x - a * y) / d))
            }
            _ => fail("unsupported complex operation"),
        };
    }
    let (Some(a), Some(b)) = (to_f64(l)?, to_f64(r)?) else {
        return fail("TypeError: unsupported operand type(s)");
    };
    let v = match op {
        BinOp::Add => a + b,
        BinOp::Sub => a - b,
        BinOp::Mult => a * b,
        BinOp::Div => {
            if b == 0.0 {
                return fail("ZeroDivisionError: float division by zero");
            }
            a / b
        }
        BinOp::FloorDiv => {
            if b == 0.0 {
                return fail("ZeroDivisionError: float floor division by zero");
            }
            float_floordiv(a, b)
        }
        BinOp::Mod => {
            if b == 0.0 {
                return fail("ZeroDivisionError: float modulo");
            }
            float_mod(a, b)
        }
        BinOp::Pow => {
            if a == 0.0 && b < 0.0 {
                return fail("ZeroDivisionError: 0.0 cannot be raised to a negative power");
            }
            if a < 0.0 && b.fract() != 0.0 && b.is_finite() {
                return fail("unsupported: complex result of a power");
            }
            let p = a.powf(b);
            if p.is_infinite() && a.is_finite() && b.is_finite() {
                return fail("OverflowError: Numerical result out of range");
            }
            p
        }
        _ => return fail("TypeError: unsupported operand type(s) for float"),
    };
    Ok(V::Float(v))
}

/// CPython `float_floor_div`: `div = (a - mod) / b`, then snapped to an integer.
fn float_floordiv(a: f64, b: f64) -> f64 {
    let div = (a - float_mod(a, b)) / b;
    if div == 0.0 {
        return 0.0f64.copysign(a / b);
    }
    let floordiv = div.floor();
    if div - floordiv > 0.5 {
        floordiv + 1.0
    } else {
        floordiv
    }
}

fn int_binop(a: &BigInt, op: BinOp, b: &BigInt) -> RResult<Value> {
    let zero = BigInt::from(0);
    let v = match op {
        BinOp::Add => a + b,
        BinOp::Sub => a - b,
        BinOp::Mult => {
            if a.bits() + b.bits() > 1_000_000 {
                return fail("MemoryError");
            }
            a * b
        }
        BinOp::FloorDiv => {
            if *b == zero {
                return fail("ZeroDivisionError: integer division or modulo by zero");
            }
            py_floordiv(a, b)
        }
        BinOp::Mod => {
            if *b == zero {
                return fail("ZeroDivisionError: integer division or modulo by zero");
            }
            a - py_floordiv(a, b) * b
        }
        BinOp::Div => {
            if *b == zero {
                return fail("ZeroDivisionError: division by zero");
            }
            return Ok(Value::Float(big_f64(a)? / big_f64(b)?));
        }
        BinOp::Pow => {
            if *b < zero {
                if *a == zero {
                    return fail("ZeroDivisionError: 0.0 cannot be raised to a negative power");
                }
                return Ok(Value::Float(big_f64(a)?.powf(big_f64(b)?)));
            }
            let e = u32::try_from(b).unwrap_or(u32::MAX);
            if a.bits().saturating_mul(u64::from(e)) > 1_000_000 {
                return fail("MemoryError");
            }
            a.pow(e)
        }
        BinOp::LShift => {
            if *b < zero {
                return fail("ValueError: negative shift count");
            }
            let s = usize::try_from(b).unwrap_or(usize::MAX);
            if s > 1_000_000 {
                return fail("MemoryError");
            }
            a << s
        }
        BinOp::RShift => {
            if *b < zero {
                return fail("ValueError: negative shift count");
            }
            let s = usize::try_from(b).unwrap_or(usize::MAX);
            if s as u64 > a.bits() {
                if *a < zero {
                    BigInt::from(-1)
                } else {
                    zero
                }
            } else {
                a >> s
            }
        }
        BinOp::BitAnd => a & b,
        BinOp::BitOr => a | b,
        BinOp::BitXor => a ^ b,
        BinOp::MatMult => return fail("TypeError: unsupported operand type(s) for @"),
    };
    Ok(Value::from_bigint(v))
}

#[cfg(test)]
mod tests {
    use super::super::value::repr;
    use super::*;

    /// (model output, the decoded calls; `ERR` = the decode fails).
    #[rustfmt::skip]
    const QUIRKS: &[(&str, &str)] = &[
        ("[f(a=1, b='x')]", "f(a=1, b='x')"),
        ("[f(a=-5, b=not 3, c=+2, d=-True)]", "f(a=-5, b=-3, c=-2, d=-1)"),
        ("[f(a=-x)]", "ERR"),
        ("[f(a=--1)]", "ERR"),
        ("[f(a=x, b=np.array([1,2]), c=g(1), d=g(k=2))]", "f(a='x', b='np.array([1, 2])', c='g(1)', d={'g': {'k': 2}})"),
        ("[f(a=2*3+1, b='a'+'b', c=[1]*2, d=7//-2, e=7%-2, f=2**-1)]", "f(a=7, b='ab', c=[1, 1], d=-4, e=-1, f=0.5)"),
        ("[f(a=x[0], b=x[1:2], c=x[1,2])]", "f(a='x[0]', b='x[1:2]', c='x[(1, 2)]')"),
        ("[f(a=...), g(b=(1,))]", "f(a='...'); g(b=(1,))"),
        ("[f(a={1: 'a', 1.0: 'b', True: 'c'})]", "f(a={1: 'c'})"),
        ("[f(a=1, a=2)]", "f(a=2)"),
        ("[f(**k)]", "f(**='k')"),
        ("[a[0].b(c=1), g()(d=2)]", "b(c=1); (d=2)"),
        ("[f(a=lambda: 1)]", "ERR"),
        ("[f(a=math.pi)]", "ERR"),
        ("[f(a={**b})]", "ERR"),
        ("[f(a={[1]: 2})]", "ERR"),
        ("[{}]", "ERR"),
        ("[]", "ERR"),
        ("[f(a=1), 2]", "ERR"),
        ("[()]", ""),
        ("{f(a=1)}", "f(a=1)"),
        ("[f(a=1/0)]", "ERR"),
        ("[f(a='ab'*2, b=b'x'*-1, c=(1,)*2, d=7.5//2, e=-7.5%2, f=3/2, g=2**100//2**99)]",
            "f(a='abab', b=b'', c=(1, 1), d=3.0, e=0.5, f=1.5, g=2)"),
    ];

    #[test]
    fn quirks() {
        for &(src, expected) in QUIRKS {
            let got = ast_parse_python(src).map(|calls| {
                let call = |c: &Call| {
                    let arg = |(k, v): &(Option<String>, Value)| {
                        format!("{}={}", k.as_deref().unwrap_or("**"), repr(v))
                    };
                    let args: Vec<String> = c.args.iter().map(arg).collect();
                    format!("{}({})", c.name, args.join(", "))
                };
                calls.iter().map(call).collect::<Vec<_>>().join("; ")
            });
            assert_eq!(got.unwrap_or_else(|_| "ERR".into()), expected, "{src:?}");
        }
    }
}
