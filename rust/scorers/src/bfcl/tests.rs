//! Cross-module tests and property tests for the BFCL pipeline.

use proptest::prelude::*;

use super::value::{py_eq, repr};
use super::*;

const FUNCS: &str = r#"[{"name": "math.gcd", "description": "", "parameters": {"type": "dict", "properties": {"num1": {"type": "integer"}, "num2": {"type": "integer"}, "unit": {"type": "string"}, "xs": {"type": "array", "items": {"type": "float"}}, "opts": {"type": "dict"}}, "required": ["num1", "num2"]}}]"#;
const ANSWER: &str = r#"[{"math.gcd": {"num1": [12], "num2": [18], "unit": ["", "cm"], "xs": [[1.0, 2.5], ""], "opts": [{"a": ["x", ""], "b": [1]}, ""]}}]"#;

fn verdict(cat: &str, raw: &str) -> (bool, Option<&'static str>) {
    let v = check_json(cat, raw, FUNCS, Some(ANSWER)).expect("no crash");
    (v.valid, v.error_type)
}

/// (category, model output, error type; `None` = valid). The "" answer makes the nested
/// type check pass; 1 == 1.0 in the list check.
#[rustfmt::skip]
const CHECKER_PATHS: &[(&str, &str, Option<&str>)] = &[
    ("simple", "[math.gcd(num1=12, num2=18)]", None),
    ("simple", "<think>x</think>\n\nmath.gcd(num1=12, num2=18)", None),
    ("simple", "math.gcd(num1=12, num2=18.0)", Some("type_error:simple")),
    ("simple", "[math.gcd(num1=12, num2=True)]", Some("type_error:simple")),
    ("simple", "[math.gcd(num1=12, num2=17)]", Some("value_error:others")),
    ("simple", "[math.gcd(num1=12, num2=18, unit='C M')]", None),
    ("simple", "[math.gcd(num1=12, num2=18, unit='m')]", Some("value_error:string")),
    ("simple", "[math.gcd(num1=12, num2=18, xs=[1, 2.5])]", None),
    ("simple", "[math.gcd(num1=12, num2=18, xs=[1.0, 2.5])]", None),
    ("simple", "[math.gcd(num1=12, num2=18, xs=(1.0, 2.5))]", Some("type_error:simple")),
    ("simple", "[math.gcd(num1=12, num2=18, opts={'b': 1})]", None),
    ("simple", "[math.gcd(num1=12, num2=18, opts={'a': 'X'})]", Some("value_error:dict_key")),
    ("simple", "[math.gcd(num1=12, num2=18, opts={'c': 1})]", Some("value_error:dict_key")),
    ("simple", "[math.gcd(num1=12, num2=18, z=1)]", Some("simple_function_checker:unexpected_param")),
    ("simple", "[math.gcd(num1=12)]", Some("simple_function_checker:missing_required")),
    ("simple", "[math_gcd(num1=12, num2=18)]", Some("simple_function_checker:wrong_func_name")),
    ("simple", "[math.gcd(num1=12, num2=18)] ok", Some("ast_decoder:decoder_failed")),
    ("simple", "[math.gcd(num1=2*6, num2=20-2)]", None),
    ("simple", "[]", Some("ast_decoder:decoder_failed")),
    ("simple", "", Some("ast_decoder:decoder_failed")),
    ("multiple", "[]", Some("ast_decoder:decoder_failed")),
    ("multiple", "[()]", Some("multiple_function_checker:wrong_count")),
    ("irrelevance", "no call", None),
    ("live_relevance", "[f()]", None),
];

#[test]
fn checker_paths() {
    for &(cat, raw, error) in CHECKER_PATHS {
        assert_eq!(verdict(cat, raw), (error.is_none(), error), "{cat} {raw:?}");
    }
    assert!(check_json("multi_turn_base", "", "[]", None).is_err());
    assert!(check_json("simple", "[f()]", "not json", Some("[]")).is_err());
}

#[test]
fn prepared_matches_check_json() {
    let item = Prepared::new("simple", FUNCS, Some(ANSWER)).expect("prepares");
    assert_eq!(item.category().name(), "simple");
    for &(_, raw, _) in CHECKER_PATHS.iter().filter(|c| c.0 == "simple") {
        let expected = check_json("simple", raw, FUNCS, Some(ANSWER));
        assert_eq!(item.check(raw), expected, "{raw:?}");
    }
    // (Ir)relevance items read neither docs nor answers.
    let irr = Prepared::new("irrelevance", "not json", None).expect("prepares");
    assert!(irr.category().is_relevance());
    assert_eq!(irr.check("no call"), Ok(Verdict::ok()));
    assert_eq!(
        irr.check("[f(a=1)]"),
        Ok(Verdict::fail("irrelevance_error:decoder_success"))
    );
    // Errors surface at preparation.
    assert!(Prepared::new("multi_turn_base", "[]", None).is_err());
    assert!(Prepared::new("simple", FUNCS, None).is_err());
    assert!(Prepared::new("simple", "not json", Some(ANSWER)).is_err());
    assert!(Category::parse("live_parallel").is_ok());
}

#[test]
fn prepared_is_send_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Prepared>();
}

#[test]
fn decode_ast_python_skips_brackets() {
    // `ast_parse` strips brackets and quotes anyway: parsing `s` directly is the same.
    for raw in [
        "f(a=1)",
        "[f(a=1)]",
        "[[f(a=1)]]",
        "'f(a=1)'",
        "[]",
        "",
        "]f(a=1)[",
    ] {
        let direct = match decode_ast(raw, Language::Python) {
            Ok(Decoded::Calls(c)) => Ok(c.len()),
            Ok(Decoded::NotCallFormat) => Ok(usize::MAX),
            Err(e) => Err(e),
        };
        let mut t = String::new();
        if !raw.starts_with('[') {
            t.push('[');
        }
        t.push_str(raw);
        if !t.ends_with(']') {
            t.push(']');
        }
        let wrapped = resolve::ast_parse_python(&t).map(|c| c.len());
        assert_eq!(direct, wrapped, "{raw:?}");
    }
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::None),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::Int),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::Float),
        ".{0,12}".prop_map(Value::Str),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::List),
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Tuple),
            prop::collection::vec(("[a-z]{1,4}", inner), 0..4).prop_map(|kv| {
                let mut d = Vec::new();
                for (k, v) in kv {
                    value::dict_insert(&mut d, Value::Str(k), v);
                }
                Value::Dict(d)
            }),
        ]
    })
}

fn call_strategy() -> impl Strategy<Value = (String, Vec<(String, Value)>)> {
    (
        "[a-z_][a-z0-9_]{0,6}(\\.[a-z_][a-z0-9_]{0,6}){0,2}",
        prop::collection::vec(("[a-z_][a-z0-9_]{0,6}", value()), 0..4),
    )
        .prop_filter("no keywords", |(name, args)| {
            let kw = |s: &str| pyparse::is_keyword(s);
            !name.split('.').any(kw) && !args.iter().any(|(k, _)| kw(k))
        })
        .prop_map(|(name, args)| {
            let mut out: Vec<(String, Value)> = Vec::new();
            for (k, v) in args {
                if !out.iter().any(|(k2, _)| *k2 == k) {
                    out.push((k, v));
                }
            }
            (name, out)
        })
}

/// Negative numbers decode through upstream's UnaryOp quirk, which is still `-x`.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Float(x), Value::Float(y)) => x == y || (x.is_nan() && y.is_nan()),
        (Value::List(x), Value::List(y)) | (Value::Tuple(x), Value::Tuple(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q))
        }
        (Value::Dict(x), Value::Dict(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((k1, v1), (k2, v2))| py_eq(k1, k2) && same(v1, v2))
        }
        _ => a.py_type() == b.py_type() && py_eq(a, b),
    }
}

/// `base` with each `(position, text)` edit applied in turn: an empty text deletes the
/// character at the position (taken modulo the length), any other is inserted there.
pub(super) fn apply_edits(base: &str, edits: Vec<(usize, &str)>) -> String {
    let mut s: Vec<char> = base.chars().collect();
    for (pos, ins) in edits {
        let p = pos % (s.len() + 1);
        if ins.is_empty() {
            if p < s.len() {
                s.remove(p);
            }
        } else {
            for (k, c) in ins.chars().enumerate() {
                s.insert(p + k, c);
            }
        }
    }
    s.into_iter().collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn decoder_never_panics(s in "\\PC{0,60}") {
        let _ = decode_ast(&s, Language::Python);
        let _ = decode_ast(&s, Language::Java);
        let _ = decode_ast(&s, Language::JavaScript);
        let _ = check_json("simple", &s, FUNCS, Some(ANSWER));
        let _ = check_json("javascript", &s, FUNCS, Some(ANSWER));
    }

    #[test]
    fn mutated_calls_never_panic(
        base in prop::sample::select(vec![
            "[math.gcd(num1=12, num2=18, xs=[1.0, 2.5], opts={'a': 'x'})]",
            "[f(a=-1, b=1e3, c=0x1F, d='\\x41\\n', e=(1,), g=not 2, h=x[1:2], i=g(k=1))]",
            "new ArrayList<>(Arrays.asList(1, 2)) A.b(x=new int[]{1, 2}, y=\"s\", z=true)",
        ]),
        edits in prop::collection::vec((0usize..200, prop::sample::select(vec![
            "", "(", ")", "[", "]", "{", "}", "'", "\"", ",", "=", "-", "1", "e", "_", "\\", "\n", " ", "f'", "é", "、", "**", ":=", "lambda", "for",
        ])), 1..6),
    ) {
        let s = apply_edits(base, edits);
        for cat in ["simple", "multiple", "java", "javascript", "irrelevance", "live_relevance"] {
            let _ = check_json(cat, &s, FUNCS, Some(ANSWER));
        }
        let _ = decode_ast_json(&s, Language::Python);
    }

    #[test]
    fn decode_encode_round_trip(calls in prop::collection::vec(call_strategy(), 1..4)) {
        let src = format!(
            "[{}]",
            calls.iter().map(|(n, args)| format!(
                "{}({})", n, args.iter().map(|(k, v)| format!("{k}={}", repr(v))).collect::<Vec<_>>().join(", ")
            )).collect::<Vec<_>>().join(", ")
        );
        let decoded = match decode_ast(&src, Language::Python) {
            Ok(Decoded::Calls(c)) => c,
            other => return Err(TestCaseError::fail(format!("{src}: {other:?}"))),
        };
        prop_assert_eq!(decoded.len(), calls.len());
        for (d, (name, args)) in decoded.iter().zip(&calls) {
            prop_assert_eq!(&d.name, name);
            prop_assert_eq!(d.args.len(), args.len());
            for ((k, v), (k2, v2)) in d.args.iter().zip(args) {
                prop_assert_eq!(k.as_deref(), Some(k2.as_str()));
                prop_assert!(same(v, v2), "{} vs {}", repr(v), repr(v2));
            }
        }
    }
}

#[test]
fn prepared_batch_matches_single_checks_and_names_the_first_error() {
    let item = Prepared::new("simple", FUNCS, Some(ANSWER)).expect("valid item");
    let outputs: Vec<String> = (0..5000)
        .map(|i| format!("[math.gcd(num1={}, num2=18)]", i % 20))
        .collect();
    let refs: Vec<&str> = outputs.iter().map(String::as_str).collect();
    let items: Vec<&Prepared> = vec![&item; refs.len()];
    let batch = check_prepared_batch(&items, &refs).expect("no crash");
    let single: Vec<Verdict> = refs
        .iter()
        .map(|o| item.check(o).expect("no crash"))
        .collect();
    assert_eq!(batch, single);
    // Upstream raises on a doc type it does not know: the batch reports the first such index.
    let bad = Prepared::new(
        "simple",
        r#"[{"name": "f", "parameters": {"type": "dict", "properties": {"a": {"type": "weird"}}, "required": ["a"]}}]"#,
        Some(r#"[{"f": {"a": [1]}}]"#),
    )
    .expect("valid JSON");
    let mut mixed: Vec<&Prepared> = vec![&item; 4000];
    mixed[3100] = &bad;
    mixed[3900] = &bad;
    let outs = vec!["[f(a=1)]"; 4000];
    match check_prepared_batch(&mixed, &outs) {
        Err((i, BfclError::Crash(_))) => assert_eq!(i, 3100),
        other => panic!("{other:?}"),
    }
}
