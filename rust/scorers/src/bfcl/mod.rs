//! BFCL v3 single-turn scoring (simple, multiple, java, javascript, live_simple,
//! live_multiple, irrelevance, live_irrelevance, live_relevance) as upstream runs it for
//! `bfcl_model_id: "Qwen/Qwen3-8B"` (`QwenHandler`, prompting mode):
//!
//! raw text → text after the last `</think>` (`_parse_query_response_prompting`) →
//! `default_decode_ast_prompting` (Python `ast`, or tree-sitter for Java/JavaScript) →
//! `ast_checker` or the relevance rule of `relevance_file_runner`.
//!
//! See `docs/bfcl.md` for how each piece maps to upstream and the known divergences.

pub mod checker;
pub mod convert;
pub mod json;
pub mod pyast;
pub mod pyparse;
pub mod resolve;
#[rustfmt::skip]
mod tables;
pub mod treesit;
pub mod value;

pub use checker::{Language, Verdict};
pub use resolve::{Call, DecodeError};
pub use value::Value;

/// Errors that are not a verdict: bad inputs, or inputs on which upstream raises
/// (the whole upstream evaluation would crash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BfclError {
    /// Invalid JSON, unknown category, missing possible answer, …
    Input(String),
    /// Upstream raises an exception in the checker / type converters.
    Crash(String),
}

impl std::fmt::Display for BfclError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BfclError::Input(m) => write!(f, "invalid input: {m}"),
            BfclError::Crash(m) => write!(f, "upstream raises here: {m}"),
        }
    }
}

/// The output of `decode_ast`.
#[derive(Debug, Clone)]
pub enum Decoded {
    /// A list of calls (`[{name: {param: value}}, ...]`).
    Calls(Vec<Call>),
    /// A successful decode that is not in function-call format (Java `{}`, JS `None`).
    NotCallFormat,
}

/// `QwenHandler._parse_query_response_prompting`: the text after the last `</think>`,
/// with leading newlines removed.
pub fn strip_think(raw: &str) -> &str {
    const TAG: &str = "</think>";
    // Each `>` from the end, tested for the tag: cheaper than a substring search.
    let mut end = raw.len();
    while let Some(gt) = raw[..end].rfind('>') {
        if raw[..=gt].ends_with(TAG) {
            return raw[gt + 1..].trim_start_matches('\n');
        }
        end = gt;
    }
    raw
}

/// `default_decode_ast_prompting(result, language)`.
pub fn decode_ast(result: &str, lang: Language) -> Result<Decoded, DecodeError> {
    let s = result.trim_matches(|c| c == '`' || c == '\n' || c == ' ');
    match lang {
        // `ast_parse` strips `[`, `]` and `'` from both ends, so the brackets upstream
        // adds would be stripped again: parse `s` directly.
        Language::Python => resolve::ast_parse_python(s).map(Decoded::Calls),
        // Upstream adds a `[` and a `]` where missing, then parses `input_str[1:-1]`.
        _ => {
            let inner = s.strip_prefix('[').unwrap_or(s);
            let inner = inner.strip_suffix(']').unwrap_or(inner);
            treesit::parse(inner, lang == Language::Java)
        }
    }
}

const CATEGORIES: &[&str] = &[
    "simple",
    "multiple",
    "java",
    "javascript",
    "irrelevance",
    "live_simple",
    "live_multiple",
    "live_irrelevance",
    "live_relevance",
    "parallel",
    "parallel_multiple",
    "live_parallel",
    "live_parallel_multiple",
];

/// A category with what the checker derives from its name, resolved once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Category {
    name: &'static str,
    relevance: bool,
    irrelevance: bool,
    lang: Language,
}

impl Category {
    /// One of the supported single-turn categories, else `BfclError::Input`.
    pub fn parse(category: &str) -> Result<Category, BfclError> {
        let Some(name) = CATEGORIES.iter().copied().find(|c| *c == category) else {
            return Err(BfclError::Input(format!(
                "unsupported category {category:?}"
            )));
        };
        Ok(Category {
            name,
            relevance: name.contains("relevance"),
            irrelevance: name.contains("irrelevance"),
            // The (ir)relevance categories decode as Python (`relevance_file_runner`).
            lang: if name.contains("javascript") {
                Language::JavaScript
            } else if name.contains("java") {
                Language::Java
            } else {
                Language::Python
            },
        })
    }

    pub fn name(&self) -> &'static str {
        self.name
    }

    /// `irrelevance`, `live_irrelevance` or `live_relevance`: no docs or answers are read.
    pub fn is_relevance(&self) -> bool {
        self.relevance
    }
}

/// One dataset item with its docs and possible answer parsed once: the per-call cost of
/// [`Prepared::check`] is the model output only. `Send + Sync` (plain data).
pub struct Prepared {
    category: Category,
    /// The data file's `function` list (`None` for the (ir)relevance categories).
    functions: Value,
    /// The possible answer's `ground_truth` (`None` for the (ir)relevance categories).
    possible_answer: Value,
}

impl Prepared {
    /// Parse the docs and the possible answer of one item. `functions_json` and
    /// `possible_answer_json` are not read for the (ir)relevance categories; the other
    /// categories need a possible answer.
    pub fn new(
        category: &str,
        functions_json: &str,
        possible_answer_json: Option<&str>,
    ) -> Result<Prepared, BfclError> {
        let category = Category::parse(category)?;
        let parse = |what: &str, text: &str| {
            json::parse(text).map_err(|e| BfclError::Input(format!("{what}: {e}")))
        };
        let (functions, possible_answer) = if category.relevance {
            (Value::None, Value::None)
        } else {
            let functions = parse("functions_json", functions_json)?;
            let Some(answer) = possible_answer_json else {
                return Err(BfclError::Input(format!(
                    "category {:?} needs a possible answer",
                    category.name
                )));
            };
            (functions, parse("possible_answer_json", answer)?)
        };
        Ok(Prepared {
            category,
            functions,
            possible_answer,
        })
    }

    pub fn category(&self) -> Category {
        self.category
    }

    /// Score one model output: `(valid, error_type)`.
    pub fn check(&self, raw_output: &str) -> Result<Verdict, BfclError> {
        let decoded = decode_ast(strip_think(raw_output), self.category.lang);
        self.verdict(decoded, false)
    }

    /// Score the structured tool calls of a function-calling model, `(name, arguments
    /// JSON)` each, as upstream's FC handlers do: [`decode_tool_calls`], then the same
    /// checks as [`Prepared::check`]. `underscore_to_dot` is the model config's flag
    /// (true for every upstream FC config): the expected name `a.b` is matched as `a_b`.
    pub fn check_tool_calls(
        &self,
        calls: &[(&str, &str)],
        underscore_to_dot: bool,
    ) -> Result<Verdict, BfclError> {
        self.verdict(decode_tool_calls(calls), underscore_to_dot)
    }

    /// The verdict on decoded calls: upstream's relevance rule, or `ast_checker` after its
    /// decode and call-format pre-checks.
    fn verdict(
        &self,
        decoded: Result<Decoded, DecodeError>,
        underscore_to_dot: bool,
    ) -> Result<Verdict, BfclError> {
        let category = self.category;
        if category.relevance {
            let contains_call = matches!(&decoded, Ok(Decoded::Calls(c)) if !c.is_empty());
            return Ok(match (category.irrelevance, contains_call) {
                (true, false) | (false, true) => Verdict::ok(),
                (true, true) => Verdict::fail("irrelevance_error:decoder_success"),
                (false, false) => Verdict::fail("relevance_error:decoder_failed"),
            });
        }
        let calls = match decoded {
            Err(_) => return Ok(Verdict::fail("ast_decoder:decoder_failed")),
            Ok(Decoded::NotCallFormat) => {
                return Ok(Verdict::fail("ast_decoder:decoder_wrong_output_format"))
            }
            Ok(Decoded::Calls(c)) => c,
        };
        checker::ast_checker(
            &self.functions,
            &calls,
            &self.possible_answer,
            category.lang,
            category.name,
            underscore_to_dot,
        )
        .map_err(|c| BfclError::Crash(c.0))
    }
}

/// `items[i].check(outputs[i])` for every `i`; the error is the first by index, with
/// that index.
pub fn check_prepared_batch<P: std::ops::Deref<Target = Prepared>>(
    items: &[P],
    outputs: &[&str],
) -> Result<Vec<Verdict>, (usize, BfclError)> {
    items
        .iter()
        .zip(outputs)
        .enumerate()
        .map(|(i, (item, out))| item.check(out).map_err(|e| (i, e)))
        .collect()
}

/// [`check_json`] over a batch; the error names the first failing index.
pub fn check_json_batch(
    category: &str,
    raw_outputs: &[&str],
    functions_json: &[&str],
    possible_answers_json: &[Option<&str>],
) -> Result<Vec<Verdict>, (usize, BfclError)> {
    raw_outputs
        .iter()
        .zip(functions_json)
        .zip(possible_answers_json)
        .enumerate()
        .map(|(i, ((raw, functions), answer))| {
            check_json(category, raw, functions, *answer).map_err(|e| (i, e))
        })
        .collect()
}

/// A function-calling handler's `decode_ast`: `[{name: json.loads(arguments)}]` for the
/// structured tool calls a model returned (name, JSON arguments). Arguments that do not
/// parse are retried with a `}` appended, as `UnifiedOSSFCHandler` does; if that fails
/// too the decode fails. Arguments that are not a JSON object are not call format.
pub fn decode_tool_calls(calls: &[(&str, &str)]) -> Result<Decoded, DecodeError> {
    let mut decoded = Vec::with_capacity(calls.len());
    for (name, arguments) in calls {
        let value = json::parse(arguments)
            .or_else(|_| json::parse(&format!("{arguments}}}")))
            .map_err(|e| DecodeError(format!("tool call {name:?}: arguments: {e}").into()))?;
        let Value::Dict(entries) = value else {
            return Ok(Decoded::NotCallFormat);
        };
        let args = entries
            .into_iter()
            .map(|(k, v)| match k {
                Value::Str(k) => Ok((Some(k), v)),
                _ => Err(DecodeError(
                    "tool call arguments: a key is not a string".into(),
                )),
            })
            .collect::<Result<_, _>>()?;
        decoded.push(Call {
            name: (*name).to_owned(),
            args,
        });
    }
    Ok(Decoded::Calls(decoded))
}

/// `check` from JSON strings (a temporary [`Prepared`]). `functions_json` is not read
/// for the (ir)relevance categories (upstream does not use the docs there).
pub fn check_json(
    category: &str,
    raw_output: &str,
    functions_json: &str,
    possible_answer_json: Option<&str>,
) -> Result<Verdict, BfclError> {
    Prepared::new(category, functions_json, possible_answer_json)?.check(raw_output)
}

/// `decode_ast` rendered as JSON (for debugging).
pub fn decode_ast_json(raw_output: &str, lang: Language) -> Result<String, DecodeError> {
    let mut out = String::new();
    match decode_ast(strip_think(raw_output), lang)? {
        Decoded::NotCallFormat => out.push_str("null"),
        Decoded::Calls(calls) => {
            out.push('[');
            value::join(&calls, &mut out, |c, out| {
                out.push('{');
                value::json_str(&c.name, out);
                out.push_str(": {");
                value::join(&c.args, out, |(k, v), out| {
                    value::json_str(k.as_deref().unwrap_or("**"), out);
                    out.push_str(": ");
                    value::to_debug_json(v, out);
                });
                out.push_str("}}");
            });
            out.push(']');
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
