//! Upstream `ast_parse` / `resolve_ast_call` / `resolve_ast_by_type`
//! (`bfcl/model_handler/utils.py`), including its quirks, and the small evaluator
//! that stands in for `eval(ast.unparse(binop))`.

use std::borrow::Cow;

use num_bigint::BigInt;

use super::pyast::{unparse, BinOp, Expr, UnOp};
use super::pyparse::parse_eval;
use super::value::{dict_insert, Value};

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
        Value::Big(b) => {
            let f: f64 = b.to_string().parse().unwrap_or(f64::INFINITY);
            if f.is_infinite() {
                return fail("OverflowError: int too large to convert to float");
            }
            Some(f)
        }
        _ => None,
    })
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

fn repeat(items: &[Value], n: &Value) -> RResult<Option<Vec<Value>>> {
    let Some(n) = big(n) else { return Ok(None) };
    let n = i64::try_from(&n).unwrap_or(i64::MAX).max(0) as usize;
    if items.len().saturating_mul(n) > MAX_SEQ {
        return fail("MemoryError");
    }
    let mut out = Vec::with_capacity(items.len() * n);
    for _ in 0..n {
        out.extend_from_slice(items);
    }
    Ok(Some(out))
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
        (V::Str(s), BinOp::Mult, n) | (n, BinOp::Mult, V::Str(s)) if big(n).is_some() => {
            let chars: Vec<Value> = vec![V::Str(s.clone())];
            let reps = repeat(&chars, n)?.unwrap_or_default();
            return Ok(V::Str(reps.iter().filter_map(|v| v.as_str()).collect()));
        }
        (V::Bytes(b), BinOp::Mult, n) | (n, BinOp::Mult, V::Bytes(b)) if big(n).is_some() => {
            let k = i64::try_from(&big(n).unwrap_or_default())
                .unwrap_or(i64::MAX)
                .max(0) as usize;
            if b.len().saturating_mul(k) > MAX_SEQ {
                return fail("MemoryError");
            }
            return Ok(V::Bytes(b.repeat(k)));
        }
        (V::List(a), BinOp::Mult, n) | (n, BinOp::Mult, V::List(a)) if big(n).is_some() => {
            return Ok(V::List(repeat(a, n)?.unwrap_or_default()));
        }
        (V::Tuple(a), BinOp::Mult, n) | (n, BinOp::Mult, V::Tuple(a)) if big(n).is_some() => {
            return Ok(V::Tuple(repeat(a, n)?.unwrap_or_default()));
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
            ((a - float_mod(a, b)) / b).round_ties_even_floor_fix(a, b)
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

trait FloorFix {
    fn round_ties_even_floor_fix(self, a: f64, b: f64) -> f64;
}

impl FloorFix for f64 {
    /// CPython `float_floor_div`: `div = (a - mod) / b`, then snapped to an integer.
    fn round_ties_even_floor_fix(self, a: f64, b: f64) -> f64 {
        let div = self;
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
            let (x, y) = (
                to_f64(&Value::from_bigint(a.clone()))?,
                to_f64(&Value::from_bigint(b.clone()))?,
            );
            return Ok(Value::Float(x.unwrap_or(0.0) / y.unwrap_or(1.0)));
        }
        BinOp::Pow => {
            if *b < zero {
                if *a == zero {
                    return fail("ZeroDivisionError: 0.0 cannot be raised to a negative power");
                }
                let x = to_f64(&Value::from_bigint(a.clone()))?.unwrap_or(0.0);
                let y = to_f64(&Value::from_bigint(b.clone()))?.unwrap_or(0.0);
                return Ok(Value::Float(x.powf(y)));
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

    fn dec(s: &str) -> String {
        match ast_parse_python(s) {
            Ok(calls) => calls
                .iter()
                .map(|c| {
                    let args: Vec<String> = c
                        .args
                        .iter()
                        .map(|(k, v)| format!("{}={}", k.as_deref().unwrap_or("**"), repr(v)))
                        .collect();
                    format!("{}({})", c.name, args.join(", "))
                })
                .collect::<Vec<_>>()
                .join("; "),
            Err(e) => format!("ERR {}", e.0),
        }
    }

    #[test]
    fn quirks() {
        assert_eq!(dec("[f(a=1, b='x')]"), "f(a=1, b='x')");
        assert_eq!(
            dec("[f(a=-5, b=not 3, c=+2, d=-True)]"),
            "f(a=-5, b=-3, c=-2, d=-1)"
        );
        assert!(dec("[f(a=-x)]").starts_with("ERR"));
        assert!(dec("[f(a=--1)]").starts_with("ERR"));
        assert_eq!(
            dec("[f(a=x, b=np.array([1,2]), c=g(1), d=g(k=2))]"),
            "f(a='x', b='np.array([1, 2])', c='g(1)', d={'g': {'k': 2}})"
        );
        assert_eq!(
            dec("[f(a=2*3+1, b='a'+'b', c=[1]*2, d=7//-2, e=7%-2, f=2**-1)]"),
            "f(a=7, b='ab', c=[1, 1], d=-4, e=-1, f=0.5)"
        );
        assert_eq!(
            dec("[f(a=x[0], b=x[1:2], c=x[1,2])]"),
            "f(a='x[0]', b='x[1:2]', c='x[(1, 2)]')"
        );
        assert_eq!(dec("[f(a=...), g(b=(1,))]"), "f(a='...'); g(b=(1,))");
        assert_eq!(dec("[f(a={1: 'a', 1.0: 'b', True: 'c'})]"), "f(a={1: 'c'})");
        assert_eq!(dec("[f(a=1, a=2)]"), "f(a=2)");
        assert_eq!(dec("[f(**k)]"), "f(**='k')");
        assert_eq!(dec("[a[0].b(c=1), g()(d=2)]"), "b(c=1); (d=2)");
        assert!(dec("[f(a=lambda: 1)]").starts_with("ERR"));
        assert!(dec("[f(a=math.pi)]").starts_with("ERR"));
        assert!(dec("[f(a={**b})]").starts_with("ERR"));
        assert!(dec("[f(a={[1]: 2})]").starts_with("ERR"));
        assert!(dec("[{}]").starts_with("ERR"));
        assert!(dec("[]").starts_with("ERR"));
        assert!(dec("[f(a=1), 2]").starts_with("ERR"));
        assert_eq!(dec("[()]"), "");
        assert_eq!(dec("{f(a=1)}"), "f(a=1)");
        assert!(dec("[f(a=1/0)]").starts_with("ERR"));
    }
}
