//! Upstream `ast_checker` (`bfcl/eval_checker/ast_eval/ast_checker.py`): the checks of
//! decoded calls against a function doc and its possible answer. `underscore_to_dot` is
//! the model config's flag (set for function-calling models, whose tools name `a.b` as
//! `a_b`; off for the prompting handlers).

use std::borrow::Cow;

use super::convert::{java_type_converter, js_type_converter, Crash};
use super::resolve::Call;
use super::value::{int_to_float, py_eq, py_in, PyType, Value};
use crate::pystr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    Python,
    Java,
    JavaScript,
}

/// `{"valid": ..., "error_type": ...}`; `error_type` is `None` when valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub valid: bool,
    pub error_type: Option<&'static str>,
}

impl Verdict {
    pub fn ok() -> Verdict {
        Verdict {
            valid: true,
            error_type: None,
        }
    }

    pub fn fail(e: &'static str) -> Verdict {
        Verdict {
            valid: false,
            error_type: Some(e),
        }
    }
}

type CResult<T> = Result<T, Crash>;

fn crash<T>(msg: impl Into<String>) -> CResult<T> {
    Err(Crash(msg.into()))
}

fn as_list(v: &Value) -> CResult<&[Value]> {
    match v {
        Value::List(items) => Ok(items),
        other => crash(format!(
            "unsupported ground-truth shape (expected a list): {}",
            super::value::repr(other)
        )),
    }
}

fn get<'a>(v: &'a Value, key: &str) -> CResult<&'a Value> {
    v.dict_get_str(key)
        .ok_or_else(|| Crash(format!("KeyError: '{key}'")))
}

fn is_std_removed(c: char) -> bool {
    matches!(c, ' ' | ',' | '.' | '/' | '-' | '_' | '*' | '^')
}

/// `re.sub(r"[ \,\.\/\-\_\*\^]", "", s).lower().replace("'", '"')`.
pub fn standardize_string(s: &str) -> String {
    let kept: String = s.chars().filter(|c| !is_std_removed(*c)).collect();
    pystr::lower(&kept).replace('\'', "\"")
}

fn std_if_str(v: &Value) -> Value {
    match v {
        Value::Str(s) => Value::Str(standardize_string(s)),
        other => other.clone(),
    }
}

fn python_type(desc: &str) -> Option<PyType> {
    Some(match desc {
        "string" | "any" => PyType::Str,
        "integer" => PyType::Int,
        "float" => PyType::Float,
        "boolean" => PyType::Bool,
        "array" | "tuple" => PyType::List,
        "dict" => PyType::Dict,
        _ => return None,
    })
}

fn java_type(desc: &str) -> Option<PyType> {
    Some(match desc {
        "byte" | "short" | "integer" | "long" => PyType::Int,
        "float" | "double" => PyType::Float,
        "boolean" => PyType::Bool,
        "char" | "String" | "any" => PyType::Str,
        "Array" | "ArrayList" | "Queue" | "Stack" => PyType::List,
        "Set" => PyType::Set,
        "HashMap" | "Hashtable" => PyType::Dict,
        _ => return None,
    })
}

fn js_type(desc: &str) -> Option<PyType> {
    Some(match desc {
        "String" | "any" => PyType::Str,
        "integer" | "Bigint" => PyType::Int,
        "float" => PyType::Float,
        "Boolean" => PyType::Bool,
        "dict" => PyType::Dict,
        "array" => PyType::List,
        _ => return None,
    })
}

fn lookup(lang: Language, desc: &Value) -> CResult<PyType> {
    let Some(d) = desc.as_str() else {
        return crash(format!(
            "TypeError/KeyError: type {}",
            super::value::repr(desc)
        ));
    };
    let t = match lang {
        Language::Python => python_type(d),
        Language::Java => java_type(d),
        Language::JavaScript => js_type(d),
    };
    t.ok_or_else(|| Crash(format!("KeyError: '{d}'")))
}

fn possible_answer_type(answers: &[Value]) -> Option<PyType> {
    answers
        .iter()
        .find(|a| !a.is_empty_str())
        .map(Value::py_type)
}

struct TypeResult {
    valid: bool,
    is_variable: bool,
    error_type: &'static str,
}

fn type_checker(
    value: &Value,
    answers: &[Value],
    expected: PyType,
    nested: Option<PyType>,
) -> CResult<TypeResult> {
    let mut result = TypeResult {
        valid: true,
        is_variable: false,
        error_type: "type_error:simple",
    };
    let mut is_variable = false;
    let pat = possible_answer_type(answers);
    if let Some(p) = pat {
        if p != expected {
            is_variable = true;
        }
    }
    if value.py_type() == expected {
        match nested {
            None => {
                result.is_variable = is_variable;
                return Ok(result);
            }
            Some(inner) => {
                let items: &[Value] = match value {
                    Value::List(v) | Value::Tuple(v) => v,
                    _ => &[],
                };
                for item in answers {
                    let mut flag = true;
                    if let Value::List(inner_answers) = item {
                        for v in items {
                            if !type_checker(v, inner_answers, inner, None)?.valid {
                                flag = false;
                                break;
                            }
                        }
                    }
                    if flag {
                        return Ok(TypeResult {
                            valid: true,
                            is_variable,
                            error_type: "",
                        });
                    }
                }
                result.valid = false;
                result.error_type = "type_error:nested";
            }
        }
    }
    if let Some(p) = pat {
        if value.py_type() == p {
            result.is_variable = true;
            return Ok(result);
        }
    }
    result.valid = false;
    result.error_type = "type_error:simple";
    Ok(result)
}

fn string_checker(value: &str, answers: &[Value]) -> Verdict {
    let v = standardize_string(value);
    if answers
        .iter()
        .any(|a| matches!(a, Value::Str(s) if standardize_string(s) == v))
    {
        Verdict::ok()
    } else {
        Verdict::fail("value_error:string")
    }
}

fn list_checker(value: &[Value], answers: &[Value]) -> CResult<Verdict> {
    let out = Value::List(value.iter().map(std_if_str).collect());
    let mut std_answers = Vec::with_capacity(answers.len());
    for a in answers {
        let items = match a {
            Value::List(v) => v.iter().map(std_if_str).collect(),
            Value::Str(s) => s
                .chars()
                .map(|c| Value::Str(standardize_string(&c.to_string())))
                .collect(),
            Value::Dict(d) if d.is_empty() => vec![],
            other => {
                return crash(format!(
                    "TypeError: len()/index of {}",
                    super::value::repr(other)
                ))
            }
        };
        std_answers.push(Value::List(items));
    }
    Ok(if py_in(&out, &std_answers) {
        Verdict::ok()
    } else {
        Verdict::fail("value_error:list/tuple")
    })
}

fn dict_checker(value: &[(Value, Value)], answers: &[Value]) -> CResult<Verdict> {
    let mut result = Verdict::fail("dict_checker:unclear");
    for answer in answers {
        if answer.is_empty_str() {
            continue;
        }
        result = Verdict::fail("dict_checker:unclear");
        let Value::Dict(ans) = answer else {
            return crash("unsupported ground-truth shape (expected a dict)");
        };
        let mut flag = true;
        for (key, v) in value {
            let Some(expected) = answer.dict_get(key) else {
                result = Verdict::fail("value_error:dict_key");
                flag = false;
                break;
            };
            if !in_standardized(v, as_list(expected)?) {
                result = Verdict::fail("value_error:dict_value");
                flag = false;
                break;
            }
        }
        for (key, v) in ans {
            let present = value.iter().any(|(k, _)| py_eq(k, key));
            let has_optional = match v {
                Value::List(items) => py_in(&Value::str(""), items),
                Value::Str(_) => true,
                Value::Dict(d) => d.iter().any(|(k, _)| k.is_empty_str()),
                _ => return crash("TypeError: argument of type is not iterable"),
            };
            if !present && !has_optional {
                result = Verdict::fail("value_error:dict_key");
                flag = false;
                break;
            }
        }
        if flag {
            return Ok(Verdict::ok());
        }
    }
    Ok(result)
}

/// `std(v) in [std(e) for e in expected]` where `std` standardises a str and leaves any
/// other value as it is (upstream's `dict_checker`). A str never equals a non-str value,
/// standardised or not.
fn in_standardized(v: &Value, expected: &[Value]) -> bool {
    match v {
        Value::Str(s) => {
            let s = standardize_string(s);
            expected
                .iter()
                .any(|e| matches!(e, Value::Str(t) if standardize_string(t) == s))
        }
        other => py_in(other, expected),
    }
}

fn list_dict_checker(value: &[Value], answers: &[Value]) -> CResult<Verdict> {
    let mut result = Verdict::fail("list_dict_checker:unclear");
    for answer in answers {
        let mut flag = true;
        let ans_items: &[Value] = match answer {
            Value::List(v) => v,
            Value::Str(s) if s.is_empty() => &[],
            other => {
                if other.py_len().is_none() {
                    return crash("TypeError: object has no len()");
                }
                return crash("unsupported ground-truth shape (expected a list of dicts)");
            }
        };
        if value.len() != ans_items.len() {
            result = Verdict::fail("value_error:list_dict_count");
            continue;
        }
        for (v, a) in value.iter().zip(ans_items) {
            let Value::Dict(d) = v else {
                return crash("AttributeError: object has no attribute 'items'");
            };
            result = dict_checker(d, std::slice::from_ref(a))?;
            if !result.valid {
                flag = false;
                break;
            }
        }
        if flag {
            return Ok(Verdict::ok());
        }
    }
    Ok(result)
}

fn to_float(v: &Value) -> CResult<Value> {
    Ok(match v {
        Value::Int(i) => Value::Float(*i as f64),
        Value::Big(b) => Value::Float(int_to_float(b).ok_or(Crash(
            "OverflowError: int too large to convert to float".into(),
        ))?),
        other => other.clone(),
    })
}

/// `simple_function_checker(func_description, model_output, possible_answer, language, ...)`.
pub fn simple_function_checker<'a>(
    fd: &'a Value,
    call: &Call,
    possible_answer: &'a Value,
    lang: Language,
    underscore_to_dot: bool,
) -> CResult<Verdict> {
    let pa = match possible_answer {
        Value::Dict(d) => match d.first() {
            Some((_, v)) => v,
            None => return crash("IndexError: list index out of range"),
        },
        _ => return crash("AttributeError: possible answer is not a dict"),
    };
    let func_name = get(fd, "name")?;
    let params = get(fd, "parameters")?;
    let param_details = get(params, "properties")?;
    let required = get(params, "required")?;

    let name_matches = match func_name {
        Value::Str(n) if underscore_to_dot => n.replace('.', "_") == call.name,
        Value::Str(n) => *n == call.name,
        _ => false,
    };
    if !name_matches {
        return Ok(Verdict::fail("simple_function_checker:wrong_func_name"));
    }
    let has_param = |p: &Value| {
        call.args.iter().any(|(k, _)| match (k, p) {
            (Some(k), Value::Str(s)) => k == s,
            (None, Value::None) => true,
            _ => false,
        })
    };
    let required_items: Cow<[Value]> = match required {
        Value::List(v) | Value::Tuple(v) => Cow::Borrowed(v),
        Value::Str(s) => s.chars().map(|c| Value::Str(c.to_string())).collect(),
        Value::Dict(d) => d.iter().map(|(k, _)| k.clone()).collect(),
        _ => return crash("TypeError: 'required' is not iterable"),
    };
    for p in required_items.iter() {
        if !has_param(p) {
            return Ok(Verdict::fail("simple_function_checker:missing_required"));
        }
    }
    for (param, value) in &call.args {
        let lookup_param = |d: &'a Value| match param {
            Some(p) => d.dict_get_str(p),
            None => d.dict_get(&Value::None),
        };
        let (Some(details), Some(answers_v)) = (lookup_param(param_details), lookup_param(pa))
        else {
            return Ok(Verdict::fail("simple_function_checker:unexpected_param"));
        };
        let desc_v = get(details, "type")?;
        let expected = lookup(lang, desc_v)?;
        let desc = desc_v.as_str().unwrap_or_default();
        let mut value: Cow<Value> = Cow::Borrowed(value);
        let mut nested: Option<PyType> = None;
        let nested_desc = || -> CResult<Value> { Ok(get(get(details, "items")?, "type")?.clone()) };
        match lang {
            Language::Java | Language::JavaScript => {
                let Value::Str(text) = &*value else {
                    return Ok(Verdict::fail(if lang == Language::Java {
                        "type_error:java"
                    } else {
                        "type_error:js"
                    }));
                };
                let is_nested = matches!(desc, "Array" | "ArrayList" | "array");
                let nd = if is_nested {
                    let nd = nested_desc()?;
                    nested = Some(lookup(lang, &nd)?);
                    Some(nd.as_str().unwrap_or_default().to_string())
                } else {
                    None
                };
                value = Cow::Owned(if lang == Language::Java {
                    java_type_converter(text, desc, nd.as_deref())?
                } else {
                    js_type_converter(text, desc, nd.as_deref())?
                });
            }
            Language::Python => {
                if matches!(desc, "array" | "tuple") {
                    nested = Some(lookup(lang, &nested_desc()?)?);
                }
            }
        }
        if desc == "tuple" {
            if let Value::Tuple(items) = &*value {
                value = Cow::Owned(Value::List(items.clone()));
            }
        }
        if lang == Language::Python && desc == "float" && value.py_type() == PyType::Int {
            value = Cow::Owned(to_float(&value)?);
        }
        let answers = as_list(answers_v)?;
        let tr = type_checker(&value, answers, expected, nested)?;
        if !tr.valid {
            return Ok(Verdict::fail(tr.error_type));
        }
        if !tr.is_variable {
            // A valid, non-variable type check means `type(value)` is `expected`.
            let r = match (&*value, nested) {
                (Value::Dict(d), _) => Some(dict_checker(d, answers)?),
                (Value::List(items), Some(PyType::Dict)) => {
                    Some(list_dict_checker(items, answers)?)
                }
                (Value::Str(s), _) => Some(string_checker(s, answers)),
                (Value::List(items), _) => Some(list_checker(items, answers)?),
                _ => None,
            };
            if let Some(r) = r {
                if !r.valid {
                    return Ok(r);
                }
                continue;
            }
        }
        if !py_in(&value, answers) {
            return Ok(Verdict::fail("value_error:others"));
        }
    }
    let Value::Dict(pa_items) = pa else {
        return crash("AttributeError: possible answer parameters are not a dict");
    };
    for (param, answers) in pa_items {
        if !has_param(param) {
            let optional = match answers {
                Value::List(items) => py_in(&Value::str(""), items),
                Value::Str(_) => true,
                _ => return crash("TypeError: argument is not iterable"),
            };
            if !optional {
                return Ok(Verdict::fail("simple_function_checker:missing_optional"));
            }
        }
    }
    Ok(Verdict::ok())
}

fn find_description<'a>(funcs: &'a Value, name: &Value) -> CResult<&'a Value> {
    match funcs {
        Value::List(items) => {
            for fd in items {
                if py_eq(get(fd, "name")?, name) {
                    return Ok(fd);
                }
            }
            crash("TypeError: 'NoneType' object is not subscriptable (function not found)")
        }
        other => Ok(other),
    }
}

fn first_key(v: &Value) -> CResult<&Value> {
    match v {
        Value::Dict(d) => d
            .first()
            .map(|(k, _)| k)
            .ok_or_else(|| Crash("IndexError".into())),
        _ => crash("AttributeError: possible answer is not a dict"),
    }
}

/// `ast_checker(func_description, model_output, possible_answer, language, test_category, ...)`.
pub fn ast_checker(
    funcs: &Value,
    output: &[Call],
    possible_answer: &Value,
    lang: Language,
    category: &str,
    underscore_to_dot: bool,
) -> CResult<Verdict> {
    let answers = as_list(possible_answer)?;
    if category.contains("parallel") {
        if output.len() != answers.len() {
            return Ok(Verdict::fail(
                "parallel_function_checker_no_order:wrong_count",
            ));
        }
        let mut matched: Vec<usize> = Vec::new();
        for ans in answers {
            let fd = find_description(funcs, first_key(ans)?)?;
            let mut found = false;
            for (idx, call) in output.iter().enumerate() {
                if matched.contains(&idx) {
                    continue;
                }
                if simple_function_checker(fd, call, ans, lang, underscore_to_dot)?.valid {
                    matched.push(idx);
                    found = true;
                    break;
                }
            }
            if !found {
                return Ok(Verdict::fail(
                    "parallel_function_checker_no_order:cannot_find_match",
                ));
            }
        }
        return Ok(Verdict::ok());
    }
    if category.contains("multiple") {
        if output.len() != answers.len() {
            return Ok(Verdict::fail("multiple_function_checker:wrong_count"));
        }
        let ans = answers.first().ok_or_else(|| Crash("IndexError".into()))?;
        let fd = find_description(funcs, first_key(ans)?)?;
        let call = output.first().ok_or_else(|| Crash("IndexError".into()))?;
        return simple_function_checker(fd, call, ans, lang, underscore_to_dot);
    }
    if output.len() != 1 {
        return Ok(Verdict::fail("simple_function_checker:wrong_count"));
    }
    let fd = match funcs {
        Value::List(items) => items
            .first()
            .ok_or_else(|| Crash("IndexError: list index out of range".into()))?,
        _ => return crash("TypeError: function docs are not a list"),
    };
    let ans = answers
        .first()
        .ok_or_else(|| Crash("IndexError: list index out of range".into()))?;
    simple_function_checker(fd, &output[0], ans, lang, underscore_to_dot)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standardize() {
        assert_eq!(standardize_string("April 1, 2024"), "april12024");
        assert_eq!(standardize_string("It's A_B-C*D^E/F.G"), "it\"sabcdefg");
        assert_eq!(standardize_string("ÉCOLE Ω-x"), "écoleωx");
        assert_eq!(standardize_string("New York, NY"), "newyorkny");
    }
}
