"""Readable Python port of upstream BFCL single-turn scoring (Nejumi's vendored
``bfcl_pkg``), used to cross-check ``nejumi_scorers.bfcl_check`` and as the timed
baseline in ``tools/bench/bench_bfcl.py``.

Pipeline per item, as upstream runs it for ``bfcl_model_id: "Qwen/Qwen3-8B"``
(``QwenHandler``, prompting mode):

* ``QwenHandler._parse_query_response_prompting``: keep the text after the last
  ``</think>`` (leading newlines removed);
* ``default_decode_ast_prompting``: strip ``"`\\n "``, wrap in ``[...]``; Python via
  ``ast.parse(mode="eval")`` + ``resolve_ast_call``; Java / JavaScript via the
  tree-sitter parsers (needs ``tree_sitter`` 0.21 with ``tree_sitter_java`` 0.21.0 and
  ``tree_sitter_javascript`` 0.21.4; :data:`HAVE_TREE_SITTER` says whether they are
  importable);
* ``ast_checker`` (simple / multiple / parallel dispatch) or the relevance rule.

``check(category, raw, functions, possible_answer)`` returns ``(valid, error_type)``
and lets upstream's exceptions propagate (upstream's evaluation would crash there).
"""

# ruff: noqa: PLW2901, E721  (a line-by-line port: mirrors upstream's loops and exact type tests)
from __future__ import annotations

import ast
import re

# The single-turn categories this checker scores (multi-turn has its own checker).
SINGLE_TURN_CATEGORIES = (
    "simple",
    "multiple",
    "java",
    "javascript",
    "irrelevance",
    "live_simple",
    "live_multiple",
    "live_irrelevance",
    "live_relevance",
)

try:  # optional: only the Java / JavaScript categories need it
    import tree_sitter_java
    import tree_sitter_javascript
    from tree_sitter import Language, Parser

    _JAVA = Parser()
    _JAVA.set_language(Language(tree_sitter_java.language(), "java"))
    _JS = Parser()
    _JS.set_language(Language(tree_sitter_javascript.language(), "javascript"))
    HAVE_TREE_SITTER = True
except Exception:
    HAVE_TREE_SITTER = False


class TreeSitterUnavailable(RuntimeError):
    """Java/JavaScript decoding needs tree_sitter 0.21 and its grammars."""


# --------------------------------------------------------------------------- decoding


def strip_think(raw: str) -> str:
    if "</think>" in raw:
        return raw.rsplit("</think>", maxsplit=1)[-1].lstrip("\n")
    return raw


def _call_to_dict(call: ast.Call) -> dict:
    parts = []
    func = call.func
    while isinstance(func, ast.Attribute):
        parts.append(func.attr)
        func = func.value
    if isinstance(func, ast.Name):
        parts.append(func.id)
    name = ".".join(reversed(parts))
    args = {}
    for kw in call.keywords:
        args[kw.arg] = _value(kw.value)
    return {name: args}


def _value(node):
    """Upstream ``resolve_ast_by_type``, quirks included."""
    if isinstance(node, ast.Constant):
        return "..." if node.value is Ellipsis else node.value
    if isinstance(node, ast.UnaryOp):
        # Upstream negates ``operand.value`` whatever the operator is.
        return -node.operand.value
    if isinstance(node, ast.List):
        return [_value(v) for v in node.elts]
    if isinstance(node, ast.Dict):
        return {_value(k): _value(v) for k, v in zip(node.keys, node.values, strict=False)}
    if isinstance(node, ast.BinOp):
        return eval(ast.unparse(node))
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Call):
        return ast.unparse(node) if not node.keywords else _call_to_dict(node)
    if isinstance(node, ast.Tuple):
        return tuple(_value(v) for v in node.elts)
    if isinstance(node, ast.Lambda):
        return eval(ast.unparse(node.body[0].value))
    if isinstance(node, ast.Subscript):
        return ast.unparse(node.value) + "[" + ast.unparse(node.slice) + "]"
    raise Exception(f"Unsupported AST type: {type(node)}")


def _parse_python(text: str) -> list:
    body = ast.parse(text.strip("[]'"), mode="eval").body
    if isinstance(body, ast.Call):
        return [_call_to_dict(body)]
    calls = []
    for elem in body.elts:  # AttributeError for non-sequences, as upstream
        assert isinstance(elem, ast.Call)
        calls.append(_call_to_dict(elem))
    return calls


def _java_text(src: str, node) -> str:
    # Upstream slices the str with byte offsets.
    return src[node.start_byte : node.end_byte]


def _java_value(src: str, node, nested: bool = False) -> str:
    kind = node.type
    if kind in ("string_literal", "character_literal"):
        text = _java_text(src, node)
        return text if nested else text[1:-1]
    if kind in ("identifier", "class_literal", "type_identifier", "method_invocation"):
        return _java_text(src, node)
    if kind == "array_creation_expression":
        type_text = _java_value(src, node.child_by_field_name("type"), True)
        value_text = _java_value(src, node.child_by_field_name("value"), True)
        return f"new {type_text}[]{value_text}"
    if kind == "object_creation_expression":
        type_text = _java_value(src, node.child_by_field_name("type"), True)
        args = node.child_by_field_name("arguments")
        if not args:
            return f"new {type_text}()"
        parts = [_java_value(src, c, True) for c in args.children if c.type not in (",", "(", ")")]
        return f"new {type_text}({', '.join(parts)})"
    if kind == "set":
        items = [_java_value(src, c, True) for c in node.children if c.type not in (",", "set")]
        return "{" + ", ".join(items) + "}"
    if node.child_count > 0:
        return "".join(_java_value(src, c, True) for c in node.children)
    return _java_text(src, node)


def _java_args(src: str, args_node) -> dict:
    args: dict = {}
    for child in args_node.children:
        if child.type == "assignment_expression":
            key, value = _java_text(src, child.children[0]), _java_value(src, child.children[2])
        elif child.type in ("identifier", "class_literal", "set"):
            key, value = None, _java_value(src, child)
        else:
            continue
        if key in args:
            raise Exception("Error: Multiple arguments with the same name are not supported.")
        args[key] = value
    return args


def _java_find(src: str, node):
    if node.type == "method_invocation":
        name = _java_text(src, node.child_by_field_name("name"))
        obj = node.child_by_field_name("object")
        if obj:
            name = f"{_java_text(src, obj)}.{name}"
        args_node = node.child_by_field_name("arguments")
        if args_node:
            return [{name: _java_args(src, args_node)}]
        return None
    for child in node.children:
        found = _java_find(src, child)
        if found:
            return found
    return None


def _parse_java(src: str):
    if not HAVE_TREE_SITTER:
        raise TreeSitterUnavailable("tree_sitter is not importable")
    root = _JAVA.parse(bytes(src, "utf8")).root_node
    if "ERROR" in root.sexp():
        raise Exception("Error parsing java the source code.")
    return _java_find(src, root) or {}


def _parse_js(src: str):
    if not HAVE_TREE_SITTER:
        raise TreeSitterUnavailable("tree_sitter is not importable")
    root = _JS.parse(bytes(src, "utf8")).root_node
    if "ERROR" in root.sexp():
        raise SyntaxError("Error js parsing the source code.")
    if root.type != "program":
        return None
    for stmt in root.children:
        if stmt.type != "expression_statement":
            continue
        for sub in stmt.children:
            if sub.type != "call_expression":
                continue
            name = sub.children[0].text.decode("utf-8")
            collected: dict = {}
            for child in sub.children[1].children:
                if child.type == "assignment_expression":
                    key = child.children[0].text.decode("utf-8")
                    value = child.children[2].text.decode("utf-8")
                    if value[:1] == value[-1:] and value[:1] in ('"', "'") and len(value) >= 1:
                        value = value[1:-1]
                elif child.type in ("identifier", "true"):
                    key, value = None, child.text.decode("utf-8")
                else:
                    continue
                collected.setdefault(key, []).append(value)
            if any(len(v) > 1 for v in collected.values()):
                raise Exception("Error: Multiple arguments with the same name are not supported.")
            return [{name: {k: v[0] for k, v in collected.items()}}]
    return None


def decode_ast(result: str, language: str = "Python"):
    """Upstream ``default_decode_ast_prompting``."""
    text = result.strip("`\n ")
    if not text.startswith("["):
        text = "[" + text
    if not text.endswith("]"):
        text = text + "]"
    if language == "Python":
        return _parse_python(text)
    if language == "Java":
        return _parse_java(text[1:-1])
    return _parse_js(text[1:-1])


def is_call_format(decoded) -> bool:
    return type(decoded) is list and all(
        type(item) is dict and len(item) == 1 and type(next(iter(item.values()))) is dict for item in decoded
    )


def is_empty_output(decoded) -> bool:
    return not is_call_format(decoded) or len(decoded) == 0 or (len(decoded) == 1 and len(decoded[0]) == 0)


# ---------------------------------------------------------------- type converters

JAVA_TYPES = {
    "byte": int, "short": int, "integer": int, "float": float, "double": float, "long": int,
    "boolean": bool, "char": str, "Array": list, "ArrayList": list, "Set": set, "HashMap": dict,
    "Hashtable": dict, "Queue": list, "Stack": list, "String": str, "any": str,
}  # fmt: skip
JS_TYPES = {
    "String": str, "integer": int, "float": float, "Bigint": int, "Boolean": bool,
    "dict": dict, "array": list, "any": str,
}  # fmt: skip
PY_TYPES = {
    "string": str, "integer": int, "float": float, "boolean": bool, "array": list,
    "tuple": list, "dict": dict, "any": str,
}  # fmt: skip
NESTED_CONVERSION = ("Array", "ArrayList", "array")


def java_convert(value: str, kind: str, nested=None):
    if kind not in JAVA_TYPES:
        raise ValueError(f"Unsupported type: {kind}")
    if kind in ("byte", "short", "integer"):
        return int(value) if re.match(r"^-?\d+$", value) else str(value)
    if kind == "float":
        ok = re.match(r"^-?\d+(\.\d+)?([eE][+-]?\d+)?[fF]$", value)
        return float(re.sub(r"[fF]$", "", value)) if ok else str(value)
    if kind == "double":
        return float(value) if re.match(r"^-?\d+(\.\d+)?([eE][+-]?\d+)?$", value) else str(value)
    if kind == "long":
        return int(re.sub(r"[lL]$", "", value)) if re.match(r"^-?\d+[lL]$", value) else str(value)
    if kind == "boolean":
        return value == "true" if value in ("true", "false") else str(value)
    if kind == "char":
        return str(value) if not re.match(r"^\'.$\'", value) else value
    if kind == "ArrayList":
        return _java_arraylist(value, nested)
    if kind == "Array":
        return _java_array(value, nested)
    if kind == "HashMap":
        return _java_hashmap(value)
    if kind in ("Set", "Hashtable"):
        raise NotImplementedError("Set conversion is not implemented")
    if kind in ("Queue", "Stack"):
        raise NotImplementedError(f"{kind} conversion is not implemented")
    return str(value)


def _java_element(text: str, nested):
    if nested in ("char", "String"):
        return text[1:-1]
    return java_convert(text, nested) if nested else java_value(text)


def _java_arraylist(text: str, nested):
    m = re.search(r"new\s+ArrayList<\w*>\(Arrays\.asList\((.+?)\)\)", text)
    if m:
        return [_java_element(e.strip(), nested) for e in m.group(1).split(",")]
    m = re.search(r"new\s+ArrayList<\w*>\(\)\s*\{\{\s*(.+?)\s*\}\}", text, re.DOTALL)
    if m:
        return [_java_element(a.strip(), nested) for a in re.findall(r"add\((.+?)\)", m.group(1))]
    if re.search(r"new\s+ArrayList<\w*>\(\)", text):
        return []
    return text


def _java_array(text: str, nested):
    m = re.search(r"new\s+\w+\[\]\s*\{(.*?)\}", text)
    if not m:
        return text
    convert = (lambda x: java_convert(x, nested)) if nested else java_value
    return [convert(x.strip()) for x in m.group(1).split(",") if x.strip()]


def _java_hashmap(text: str):
    m = re.search(r"new\s+HashMap<.*?>\s*\(\)\s*\{\s*\{?\s*(.*?)\s*\}?\s*\}", text, re.DOTALL)
    if m:
        result = {}
        if m.group(1).strip():
            for key, value in re.findall(r"put\(\"(.*?)\",\s*(.*?)\)", m.group(1)):
                result[key] = java_value(value.strip())
        return result
    if re.search(r"new\s+HashMap<.*?>\s*\(\)", text):
        return {}
    return text


def java_value(text: str):
    if text == "true":
        return True
    if text == "false":
        return False
    if text.startswith('"') and text.endswith('"'):
        return text[1:-1]
    if re.match(r"^-?\d+[lL]$", text):
        return int(text[:-1])
    if re.match(r"^-?\d+(\.\d+)?([eE][+-]?\d+)?[fF]$", text):
        return float(re.sub(r"[fF]$", "", text))
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text


def js_convert(value: str, kind: str, nested=None):
    if kind not in JS_TYPES:
        raise ValueError(f"Unsupported type: {kind}")
    if kind == "String":
        quoted = (value.startswith('"') and value.endswith('"')) or (value.startswith("'") and value.endswith("'"))
        return value[1:-1] if quoted else str(value)
    if kind == "integer":
        return int(value) if re.match(r"^-?\d+$", value) else str(value)
    if kind == "float":
        return float(value) if re.match(r"^-?\d+(\.\d+)?$", value) else str(value)
    if kind == "Bigint":
        return int(value[:-1]) if re.match(r"^-?\d+n$", value) else str(value)
    if kind == "Boolean":
        return value == "true" if value in ("true", "false") else str(value)
    if kind == "dict":
        return _js_dict(value)
    if kind == "array":
        return _js_array(value, nested)
    return str(value)


def _js_array(code: str, nested=None):
    code = code.strip()
    two_d = r"\[\s*\[.*?\]\s*(,\s*\[.*?\]\s*)*\]|\bnew\s+Array\(\s*\[.*?\]\s*(,\s*\[.*?\]\s*)*\)"
    try:
        m = re.match(two_d, code)
        if m:
            rows = []
            for idx, inner in enumerate(re.findall(r"\[(.*?)\]", m.group(0))):
                inner = inner.strip()
                if idx == 0 and inner.startswith("["):
                    inner = inner[1:]
                rows.append([js_value(e.strip()) for e in inner.split(",")])
            return rows
        m = re.match(r"\[(.*?)\]|\bnew\s+Array\((.*?)\)", code)
        if not m:
            return code
        body = m.group(1) if m.group(1) is not None else m.group(2)
        body = body.strip() if body is not None else ""
        elements = body.split(",") if body else []
        if not nested:
            return [js_value(e.strip()) for e in elements]
        out = []
        for e in elements:
            e = e.strip()
            out.append(js_convert(e, nested, "String") if e.startswith(("'", '"')) else js_convert(e, nested))
        return out
    except Exception:
        return code


def _js_dict(code: str):
    code = code.strip()
    if code == "{}":
        return {}
    m = re.match(r"\{(.*?)\}", code)
    if not m:
        return code
    result = {}
    for key, value in re.findall(r"([^:]+):\s*(.*?)(?:,\s*(?=[^,]+:)|$)", m.group(1)):
        key = key.strip().strip("'\"")
        value = value.strip()
        if value.startswith("[") and value.endswith("]"):
            result[key] = _js_array(value)
        elif value.startswith("{") and value.endswith("}"):
            result[key] = _js_dict(value)
        else:
            result[key] = js_value(value.strip("'\""))
    return result


def js_value(text: str):
    text = text.strip()
    if text == "true":
        return True
    if text == "false":
        return False
    if (text.startswith('"') and text.endswith('"')) or (text.startswith("'") and text.endswith("'")):
        return text[1:-1]
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text


# --------------------------------------------------------------------------- checker


def standardize_string(text: str) -> str:
    return re.sub(r"[ \,\.\/\-\_\*\^]", "", text).lower().replace("'", '"')


def _answer_type(answers):
    for answer in answers:
        if answer != "":
            return type(answer)
    return None


def _type_check(value, answers, expected, nested):
    """Upstream ``type_checker``: returns (valid, is_variable, error_type)."""
    answer_type = _answer_type(answers)
    is_variable = answer_type is not None and answer_type != expected
    valid, error_type = True, "type_error:simple"
    if type(value) == expected:
        if nested is None:
            return True, is_variable, error_type
        for answer in answers:
            ok = True
            if type(answer) == list:
                for item in value:
                    if not _type_check(item, answer, nested, None)[0]:
                        ok = False
                        break
            if ok:
                return True, is_variable, None
        valid, error_type = False, "type_error:nested"
    if answer_type is not None and type(value) == answer_type:
        return valid, True, error_type
    return False, is_variable, "type_error:simple"


def _string_check(value, answers):
    wanted = [standardize_string(a) for a in answers if type(a) == str]
    return None if standardize_string(value) in wanted else "value_error:string"


def _std(x):
    return standardize_string(x) if type(x) == str else x


def _list_check(value, answers):
    got = [_std(x) for x in value]
    wanted = [[_std(answer[j]) for j in range(len(answer))] for answer in answers]
    return None if got in wanted else "value_error:list/tuple"


def _dict_check(value, answers):
    error = "dict_checker:unclear"
    for answer in answers:
        if answer == "":
            continue
        error, ok = "dict_checker:unclear", True
        for key, item in value.items():
            if key not in answer:
                error, ok = "value_error:dict_key", False
                break
            if _std(item) not in [_std(x) for x in answer[key]]:
                error, ok = "value_error:dict_value", False
                break
        for key, allowed in answer.items():
            if key not in value and "" not in allowed:
                error, ok = "value_error:dict_key", False
                break
        if ok:
            return None
    return error


def _list_dict_check(value, answers):
    error = "list_dict_checker:unclear"
    for answer in answers:
        ok = True
        if len(value) != len(answer):
            error = "value_error:list_dict_count"
            continue
        for index in range(len(value)):
            error = _dict_check(value[index], [answer[index]])
            if error is not None:
                ok = False
                break
        if ok:
            return None
    return error


def simple_function_checker(doc: dict, call: dict, possible_answer: dict, language: str):
    answers_by_param = next(iter(possible_answer.values()))
    name = doc["name"]
    properties = doc["parameters"]["properties"]
    required = doc["parameters"]["required"]
    if name not in call:
        return False, "simple_function_checker:wrong_func_name"
    params = call[name]
    for param in required:
        if param not in params:
            return False, "simple_function_checker:missing_required"
    for param, value in params.items():
        if param not in properties or param not in answers_by_param:
            return False, "simple_function_checker:unexpected_param"
        kind = properties[param]["type"]
        nested = None
        if language == "Java":
            expected = JAVA_TYPES[kind]
            if type(value) != str:
                return False, "type_error:java"
            if kind in NESTED_CONVERSION:
                inner = properties[param]["items"]["type"]
                nested = JAVA_TYPES[inner]
                value = java_convert(value, kind, inner)
            else:
                value = java_convert(value, kind)
        elif language == "JavaScript":
            expected = JS_TYPES[kind]
            if type(value) != str:
                return False, "type_error:js"
            if kind in NESTED_CONVERSION:
                inner = properties[param]["items"]["type"]
                nested = JS_TYPES[inner]
                value = js_convert(value, kind, inner)
            else:
                value = js_convert(value, kind)
        else:
            expected = PY_TYPES[kind]
            if kind in ("array", "tuple"):
                nested = PY_TYPES[properties[param]["items"]["type"]]
        if kind == "tuple" and type(value) == tuple:
            value = list(value)
        if language == "Python" and kind == "float" and type(value) == int:
            value = float(value)
        answers = answers_by_param[param]
        valid, is_variable, error = _type_check(value, answers, expected, nested)
        if not valid:
            return False, error
        if not is_variable:
            if expected == dict:
                error = _dict_check(value, answers)
            elif expected == list and nested == dict:
                error = _list_dict_check(value, answers)
            elif expected == str:
                error = _string_check(value, answers)
            elif expected == list:
                error = _list_check(value, answers)
            else:
                error = "fallthrough"
            if error is None:
                continue
            if error != "fallthrough":
                return False, error
        if value not in answers:
            return False, "value_error:others"
    for param, answers in answers_by_param.items():
        if param not in params and "" not in answers:
            return False, "simple_function_checker:missing_optional"
    return True, None


def _find_doc(docs, name):
    if type(docs) == list:
        for doc in docs:
            if doc["name"] == name:
                return doc
        return None
    return docs


def ast_checker(docs, calls, possible_answer, language, category):
    if "parallel" in category:
        if len(calls) != len(possible_answer):
            return False, "parallel_function_checker_no_order:wrong_count"
        matched: list = []
        for answer in possible_answer:
            doc = _find_doc(docs, next(iter(answer)))
            found = False
            for index, call in enumerate(calls):
                if index in matched:
                    continue
                if simple_function_checker(doc, call, answer, language)[0]:
                    matched.append(index)
                    found = True
                    break
            if not found:
                return False, "parallel_function_checker_no_order:cannot_find_match"
        return True, None
    if "multiple" in category:
        if len(calls) != len(possible_answer):
            return False, "multiple_function_checker:wrong_count"
        doc = _find_doc(docs, next(iter(possible_answer[0])))
        return simple_function_checker(doc, calls[0], possible_answer[0], language)
    if len(calls) != 1:
        return False, "simple_function_checker:wrong_count"
    return simple_function_checker(docs[0], calls[0], possible_answer[0], language)


def language_for(category: str) -> str:
    if "javascript" in category:
        return "JavaScript"
    if "java" in category:
        return "Java"
    return "Python"


def check(category: str, raw: str, functions: list, possible_answer):
    """``(valid, error_type)`` for one single-turn item (upstream exceptions propagate)."""
    text = strip_think(raw)
    if "relevance" in category:
        try:
            contains_call = not is_empty_output(decode_ast(text, "Python"))
        except Exception:
            contains_call = False
        if "irrelevance" in category:
            return (True, None) if not contains_call else (False, "irrelevance_error:decoder_success")
        return (True, None) if contains_call else (False, "relevance_error:decoder_failed")
    language = language_for(category)
    try:
        decoded = decode_ast(text, language)
    except TreeSitterUnavailable:
        raise
    except Exception:
        return False, "ast_decoder:decoder_failed"
    if not is_call_format(decoded):
        return False, "ast_decoder:decoder_wrong_output_format"
    return ast_checker(functions, decoded, possible_answer, language, category)
