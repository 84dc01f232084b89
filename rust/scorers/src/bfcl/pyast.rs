//! The Python expression AST (the subset of CPython 3.11 `ast` nodes reachable from
//! `ast.parse(src, mode="eval")`) and `ast.unparse` for it.

use super::value::{repr, repr_bytes, repr_str, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnOp {
    Not,
    Invert,
    UAdd,
    USub,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mult,
    MatMult,
    Div,
    Mod,
    Pow,
    LShift,
    RShift,
    BitOr,
    BitXor,
    BitAnd,
    FloorDiv,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    NotEq,
    Lt,
    LtE,
    Gt,
    GtE,
    Is,
    IsNot,
    In,
    NotIn,
}

#[derive(Debug, Clone)]
pub struct Comprehension {
    pub target: Expr,
    pub iter: Expr,
    pub ifs: Vec<Expr>,
    pub is_async: bool,
}

#[derive(Debug, Clone, Default)]
pub struct Params {
    pub posonly: Vec<(String, Option<Expr>)>,
    pub args: Vec<(String, Option<Expr>)>,
    pub vararg: Option<String>,
    pub kwonly: Vec<(String, Option<Expr>)>,
    pub kwarg: Option<String>,
}

#[derive(Debug, Clone)]
pub enum Expr {
    Name(String),
    /// A constant; the flag is the `u"..."` kind marker.
    Constant(Value, bool),
    Ellipsis,
    /// An f-string (kept only as "some JoinedStr").
    JoinedStr,
    List(Vec<Expr>),
    Tuple(Vec<Expr>),
    Set(Vec<Expr>),
    /// `None` key = `**mapping`.
    Dict(Vec<(Option<Expr>, Expr)>),
    Starred(Box<Expr>),
    Attribute(Box<Expr>, String),
    Subscript(Box<Expr>, Box<Expr>),
    Slice(Option<Box<Expr>>, Option<Box<Expr>>, Option<Box<Expr>>),
    Call {
        func: Box<Expr>,
        args: Vec<Expr>,
        /// `None` name = `**mapping`.
        keywords: Vec<(Option<String>, Expr)>,
    },
    UnaryOp(UnOp, Box<Expr>),
    BinOp(Box<Expr>, BinOp, Box<Expr>),
    /// `true` = `and`.
    BoolOp(bool, Vec<Expr>),
    Compare(Box<Expr>, Vec<(CmpOp, Expr)>),
    IfExp(Box<Expr>, Box<Expr>, Box<Expr>),
    Lambda(Box<Params>, Box<Expr>),
    NamedExpr(String, Box<Expr>),
    Await(Box<Expr>),
    Yield(Option<Box<Expr>>),
    YieldFrom(Box<Expr>),
    ListComp(Box<Expr>, Vec<Comprehension>),
    SetComp(Box<Expr>, Vec<Comprehension>),
    GeneratorExp(Box<Expr>, Vec<Comprehension>),
    DictComp(Box<Expr>, Box<Expr>, Vec<Comprehension>),
}

/// `ast._Precedence` (CPython 3.11).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Prec {
    NamedExpr = 0,
    Tuple,
    Yield,
    Test,
    Or,
    And,
    Not,
    Cmp,
    Expr, // == BOR
    BXor,
    BAnd,
    Shift,
    Arith,
    Term,
    Factor,
    Power,
    Await,
    Atom,
}

impl Prec {
    /// The next tighter level (`Atom` stays `Atom`).
    fn next(self) -> Prec {
        use Prec::*;
        const ALL: [Prec; 18] = [
            NamedExpr, Tuple, Yield, Test, Or, And, Not, Cmp, Expr, BXor, BAnd, Shift, Arith, Term,
            Factor, Power, Await, Atom,
        ];
        ALL.get(self as usize + 1).copied().unwrap_or(Atom)
    }
}

/// Why `ast.unparse` could not be reproduced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnparseError(pub String);

const INFSTR: &str = "1e309";

fn write_constant(v: &Value, out: &mut String) -> Result<(), UnparseError> {
    match v {
        Value::Float(_) | Value::Complex(..) => out.push_str(
            &repr(v)
                .replace("inf", INFSTR)
                .replace("nan", &format!("({INFSTR}-{INFSTR})")),
        ),
        Value::Str(s) => out.push_str(&repr_str(s)),
        Value::Bytes(b) => out.push_str(&repr_bytes(b)),
        Value::Big(b) => {
            let s = b.to_string();
            if s.trim_start_matches('-').len() > 4300 {
                return Err(UnparseError(
                    "Exceeds the limit (4300 digits) for integer string conversion".into(),
                ));
            }
            out.push_str(&s);
        }
        other => out.push_str(&repr(other)),
    }
    Ok(())
}

fn binop_str(op: BinOp) -> (&'static str, Prec) {
    match op {
        BinOp::Add => ("+", Prec::Arith),
        BinOp::Sub => ("-", Prec::Arith),
        BinOp::Mult => ("*", Prec::Term),
        BinOp::MatMult => ("@", Prec::Term),
        BinOp::Div => ("/", Prec::Term),
        BinOp::Mod => ("%", Prec::Term),
        BinOp::FloorDiv => ("//", Prec::Term),
        BinOp::Pow => ("**", Prec::Power),
        BinOp::LShift => ("<<", Prec::Shift),
        BinOp::RShift => (">>", Prec::Shift),
        BinOp::BitOr => ("|", Prec::Expr),
        BinOp::BitXor => ("^", Prec::BXor),
        BinOp::BitAnd => ("&", Prec::BAnd),
    }
}

fn cmpop_str(op: CmpOp) -> &'static str {
    match op {
        CmpOp::Eq => "==",
        CmpOp::NotEq => "!=",
        CmpOp::Lt => "<",
        CmpOp::LtE => "<=",
        CmpOp::Gt => ">",
        CmpOp::GtE => ">=",
        CmpOp::Is => "is",
        CmpOp::IsNot => "is not",
        CmpOp::In => "in",
        CmpOp::NotIn => "not in",
    }
}

/// `ast.unparse(node)`.
pub fn unparse(e: &Expr) -> Result<String, UnparseError> {
    let mut out = String::new();
    Unparser { out: &mut out }.visit(e, Prec::Test)?;
    Ok(out)
}

struct Unparser<'a> {
    out: &'a mut String,
}

impl Unparser<'_> {
    fn w(&mut self, s: &str) {
        self.out.push_str(s);
    }

    fn paren_if(
        &mut self,
        cond: bool,
        f: impl FnOnce(&mut Self) -> Result<(), UnparseError>,
    ) -> Result<(), UnparseError> {
        if cond {
            self.w("(");
        }
        f(self)?;
        if cond {
            self.w(")");
        }
        Ok(())
    }

    fn interleave(&mut self, items: &[Expr], prec: Prec) -> Result<(), UnparseError> {
        for (i, it) in items.iter().enumerate() {
            if i > 0 {
                self.w(", ");
            }
            self.visit(it, prec)?;
        }
        Ok(())
    }

    fn items_view(&mut self, items: &[Expr]) -> Result<(), UnparseError> {
        if items.len() == 1 {
            self.visit(&items[0], Prec::Test)?;
            self.w(",");
            Ok(())
        } else {
            self.interleave(items, Prec::Test)
        }
    }

    fn comprehensions(&mut self, gens: &[Comprehension]) -> Result<(), UnparseError> {
        for g in gens {
            self.w(if g.is_async { " async for " } else { " for " });
            self.visit(&g.target, Prec::Tuple)?;
            self.w(" in ");
            self.visit(&g.iter, Prec::Test.next())?;
            for cond in &g.ifs {
                self.w(" if ");
                self.visit(cond, Prec::Test.next())?;
            }
        }
        Ok(())
    }

    fn params(&mut self, p: &Params) -> Result<(), UnparseError> {
        let mut first = true;
        let all: Vec<&(String, Option<Expr>)> = p.posonly.iter().chain(p.args.iter()).collect();
        for (index, (name, default)) in all.iter().enumerate() {
            if !first {
                self.w(", ");
            }
            first = false;
            self.w(name);
            if let Some(d) = default {
                self.w("=");
                self.visit(d, Prec::Test)?;
            }
            if index + 1 == p.posonly.len() {
                self.w(", /");
            }
        }
        if p.vararg.is_some() || !p.kwonly.is_empty() {
            if !first {
                self.w(", ");
            }
            first = false;
            self.w("*");
            if let Some(v) = &p.vararg {
                self.w(v);
            }
        }
        for (name, default) in &p.kwonly {
            self.w(", ");
            self.w(name);
            if let Some(d) = default {
                self.w("=");
                self.visit(d, Prec::Test)?;
            }
        }
        if let Some(k) = &p.kwarg {
            if !first {
                self.w(", ");
            }
            self.w("**");
            self.w(k);
        }
        Ok(())
    }

    fn visit(&mut self, e: &Expr, prec: Prec) -> Result<(), UnparseError> {
        match e {
            Expr::Name(n) => self.w(n),
            Expr::Constant(v, u) => {
                if *u {
                    self.w("u");
                }
                write_constant(v, self.out)?;
            }
            Expr::Ellipsis => self.w("..."),
            Expr::JoinedStr => {
                return Err(UnparseError("unparsing f-strings is not supported".into()))
            }
            Expr::List(items) => {
                self.w("[");
                self.interleave(items, Prec::Test)?;
                self.w("]");
            }
            Expr::Tuple(items) => self.paren_if(items.is_empty() || prec > Prec::Tuple, |s| {
                s.items_view(items)
            })?,
            Expr::Set(items) => {
                if items.is_empty() {
                    self.w("{*()}");
                } else {
                    self.w("{");
                    self.interleave(items, Prec::Test)?;
                    self.w("}");
                }
            }
            Expr::Dict(items) => {
                self.w("{");
                for (i, (k, v)) in items.iter().enumerate() {
                    if i > 0 {
                        self.w(", ");
                    }
                    match k {
                        Some(k) => {
                            self.visit(k, Prec::Test)?;
                            self.w(": ");
                            self.visit(v, Prec::Test)?;
                        }
                        None => {
                            self.w("**");
                            self.visit(v, Prec::Expr)?;
                        }
                    }
                }
                self.w("}");
            }
            Expr::Starred(v) => {
                self.w("*");
                self.visit(v, Prec::Expr)?;
            }
            Expr::Attribute(v, attr) => {
                self.visit(v, Prec::Atom)?;
                if matches!(**v, Expr::Constant(Value::Int(_) | Value::Big(_), _)) {
                    self.w(" ");
                }
                self.w(".");
                self.w(attr);
            }
            Expr::Subscript(v, slice) => {
                self.visit(v, Prec::Atom)?;
                self.w("[");
                match &**slice {
                    Expr::Tuple(items) if !items.is_empty() => self.items_view(items)?,
                    s => self.visit(s, Prec::Test)?,
                }
                self.w("]");
            }
            Expr::Slice(lo, hi, step) => {
                if let Some(lo) = lo {
                    self.visit(lo, Prec::Test)?;
                }
                self.w(":");
                if let Some(hi) = hi {
                    self.visit(hi, Prec::Test)?;
                }
                if let Some(step) = step {
                    self.w(":");
                    self.visit(step, Prec::Test)?;
                }
            }
            Expr::Call {
                func,
                args,
                keywords,
            } => {
                self.visit(func, Prec::Atom)?;
                self.w("(");
                let mut comma = false;
                for a in args {
                    if comma {
                        self.w(", ");
                    }
                    comma = true;
                    self.visit(a, Prec::Test)?;
                }
                for (k, v) in keywords {
                    if comma {
                        self.w(", ");
                    }
                    comma = true;
                    match k {
                        Some(k) => {
                            self.w(k);
                            self.w("=");
                        }
                        None => self.w("**"),
                    }
                    self.visit(v, Prec::Test)?;
                }
                self.w(")");
            }
            Expr::UnaryOp(op, v) => {
                let (s, p) = match op {
                    UnOp::Not => ("not", Prec::Not),
                    UnOp::Invert => ("~", Prec::Factor),
                    UnOp::UAdd => ("+", Prec::Factor),
                    UnOp::USub => ("-", Prec::Factor),
                };
                self.paren_if(prec > p, |u| {
                    u.w(s);
                    if p != Prec::Factor {
                        u.w(" ");
                    }
                    u.visit(v, p)
                })?;
            }
            Expr::BinOp(l, op, r) => {
                let (s, p) = binop_str(*op);
                let (lp, rp) = if *op == BinOp::Pow {
                    (p.next(), p)
                } else {
                    (p, p.next())
                };
                self.paren_if(prec > p, |u| {
                    u.visit(l, lp)?;
                    u.w(&format!(" {s} "));
                    u.visit(r, rp)
                })?;
            }
            Expr::BoolOp(is_and, values) => {
                let p = if *is_and { Prec::And } else { Prec::Or };
                self.paren_if(prec > p, |u| {
                    let mut level = p;
                    for (i, v) in values.iter().enumerate() {
                        if i > 0 {
                            u.w(if *is_and { " and " } else { " or " });
                        }
                        level = level.next();
                        u.visit(v, level)?;
                    }
                    Ok(())
                })?;
            }
            Expr::Compare(l, ops) => self.paren_if(prec > Prec::Cmp, |u| {
                u.visit(l, Prec::Cmp.next())?;
                for (op, e) in ops {
                    u.w(&format!(" {} ", cmpop_str(*op)));
                    u.visit(e, Prec::Cmp.next())?;
                }
                Ok(())
            })?,
            Expr::IfExp(test, body, orelse) => self.paren_if(prec > Prec::Test, |u| {
                u.visit(body, Prec::Test.next())?;
                u.w(" if ");
                u.visit(test, Prec::Test.next())?;
                u.w(" else ");
                u.visit(orelse, Prec::Test)
            })?,
            Expr::Lambda(params, body) => self.paren_if(prec > Prec::Test, |u| {
                u.w("lambda");
                let mut buf = String::new();
                Unparser { out: &mut buf }.params(params)?;
                if !buf.is_empty() {
                    u.w(" ");
                    u.w(&buf);
                }
                u.w(": ");
                u.visit(body, Prec::Test)
            })?,
            Expr::NamedExpr(target, v) => self.paren_if(prec > Prec::NamedExpr, |u| {
                u.w(target);
                u.w(" := ");
                u.visit(v, Prec::Atom)
            })?,
            Expr::Await(v) => self.paren_if(prec > Prec::Await, |u| {
                u.w("await ");
                u.visit(v, Prec::Atom)
            })?,
            Expr::Yield(v) => self.paren_if(prec > Prec::Yield, |u| {
                u.w("yield");
                if let Some(v) = v {
                    u.w(" ");
                    u.visit(v, Prec::Atom)?;
                }
                Ok(())
            })?,
            Expr::YieldFrom(v) => self.paren_if(prec > Prec::Yield, |u| {
                u.w("yield from ");
                u.visit(v, Prec::Atom)
            })?,
            Expr::ListComp(elt, gens)
            | Expr::SetComp(elt, gens)
            | Expr::GeneratorExp(elt, gens) => {
                let (open, close) = match e {
                    Expr::ListComp(..) => ("[", "]"),
                    Expr::SetComp(..) => ("{", "}"),
                    _ => ("(", ")"),
                };
                self.w(open);
                self.visit(elt, Prec::Test)?;
                self.comprehensions(gens)?;
                self.w(close);
            }
            Expr::DictComp(k, v, gens) => {
                self.w("{");
                self.visit(k, Prec::Test)?;
                self.w(": ");
                self.visit(v, Prec::Test)?;
                self.comprehensions(gens)?;
                self.w("}");
            }
        }
        Ok(())
    }
}
