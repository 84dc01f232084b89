//! A copy of a tree-sitter grammar whose parse table is stored densely.
//!
//! tree-sitter keeps most parse states in a compressed "small" table: finding the entry for
//! one (state, symbol) pair scans the state's symbol groups. Its error recovery asks for
//! every token in a state (`ts_parser__do_all_potential_reductions` with no lookahead, the
//! missing-token search in `ts_parser__handle_error`), so on the BFCL Java inputs, which
//! upstream parses without their trailing `;`, that scan is a third of the checker's time.
//!
//! The parser reads the tables only through `ts_language_lookup`, a pure function of
//! (state, symbol) whose dense branch serves the states below `large_state_count`. The
//! copy moves every state into the dense table, filled from the same lookup, so the
//! parser sees the same value for every pair and builds the same trees. Every lookup the
//! parser makes is for a grammar symbol: the error symbols are answered before the table
//! is consulted (`ts_language_table_entry`, `ts_language_next_state`) or not looked up at
//! all (`ts_parser__recover` skips its summary for an error lookahead), and aliases are
//! never looked up. (The lookahead iterator would list a state's symbols in another order;
//! only queries and the public lookahead-iterator API use it, and nejumi uses neither.)

use std::ffi::c_void;

use tree_sitter::Language;

/// The ABI version of `struct TSLanguage` mirrored below (tree-sitter 0.21's
/// `lib/src/parser.h`, `LANGUAGE_VERSION` 14 in the grammars' generated parsers).
const MIRRORED_VERSION: u32 = 14;

/// `struct TSLanguage` of tree-sitter 0.21, field by field (`lib/src/parser.h`). The
/// crate versions are pinned with `=` in Cargo.toml; [`dense_copy`] also checks the
/// counts it reads against tree-sitter's own accessors.
#[repr(C)]
#[derive(Clone, Copy)]
struct RawLanguage {
    version: u32,
    symbol_count: u32,
    alias_count: u32,
    token_count: u32,
    external_token_count: u32,
    state_count: u32,
    large_state_count: u32,
    production_id_count: u32,
    field_count: u32,
    max_alias_sequence_length: u16,
    parse_table: *const u16,
    small_parse_table: *const u16,
    small_parse_table_map: *const u32,
    parse_actions: *const c_void,
    symbol_names: *const c_void,
    field_names: *const c_void,
    field_map_slices: *const c_void,
    field_map_entries: *const c_void,
    symbol_metadata: *const c_void,
    public_symbol_map: *const c_void,
    alias_map: *const c_void,
    alias_sequences: *const c_void,
    lex_modes: *const c_void,
    lex_fn: *const c_void,
    keyword_lex_fn: *const c_void,
    keyword_capture_token: u16,
    external_scanner: [*const c_void; 7],
    primary_state_ids: *const c_void,
}

/// `ts_language_lookup` (tree-sitter 0.21 `lib/src/language.h`) on the original tables.
///
/// # Safety
/// `raw` must be a live tree-sitter 0.21 language and `state < state_count`,
/// `symbol < symbol_count`.
unsafe fn lookup(raw: &RawLanguage, state: u32, symbol: u16) -> u16 {
    if state < raw.large_state_count {
        return *raw
            .parse_table
            .add((state * raw.symbol_count) as usize + usize::from(symbol));
    }
    let index = *raw
        .small_parse_table_map
        .add((state - raw.large_state_count) as usize);
    let mut data = raw.small_parse_table.add(index as usize);
    let group_count = *data;
    data = data.add(1);
    for _ in 0..group_count {
        let section_value = *data;
        let symbol_count = *data.add(1);
        data = data.add(2);
        for _ in 0..symbol_count {
            if *data == symbol {
                return section_value;
            }
            data = data.add(1);
        }
    }
    0
}

/// The grammar with all its parse states in one dense table, or `None` when the
/// language is not the tree-sitter 0.21 layout this module mirrors. The copy and its
/// table live for the rest of the process (one per grammar, made once).
pub fn dense_copy(language: &Language) -> Option<Language> {
    let ptr = language.clone().into_raw();
    // SAFETY: a `Language` points at a static `TSLanguage` from the grammar crate; the
    // mirror is read only after its version field (the first field in every ABI) matches.
    let raw = unsafe {
        if *ptr.cast::<u32>() != MIRRORED_VERSION {
            return None;
        }
        *ptr.cast::<RawLanguage>()
    };
    // The counts read through the mirror must be tree-sitter's own.
    let symbols = raw.symbol_count.checked_add(raw.alias_count)?;
    if language.version() != raw.version as usize
        || language.node_kind_count() != symbols as usize
        || language.parse_state_count() != raw.state_count as usize
        || raw.large_state_count > raw.state_count
    {
        return None;
    }
    let mut table = Vec::with_capacity(raw.state_count as usize * raw.symbol_count as usize);
    for state in 0..raw.state_count {
        for symbol in 0..u16::try_from(raw.symbol_count).ok()? {
            // SAFETY: state and symbol are within the counts checked above.
            table.push(unsafe { lookup(&raw, state, symbol) });
        }
    }
    let mut dense = raw;
    dense.large_state_count = raw.state_count;
    dense.parse_table = Box::leak(table.into_boxed_slice()).as_ptr();
    let dense: &'static RawLanguage = Box::leak(Box::new(dense));
    // SAFETY: the copy is a valid `TSLanguage` (the original's fields, with a dense table
    // that covers every state) and is never freed; `ts_language_delete` only releases
    // WebAssembly languages.
    Some(unsafe { Language::from_raw((dense as *const RawLanguage).cast()) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grammars() -> [(&'static str, Language); 2] {
        [
            ("java", tree_sitter_java::language()),
            ("javascript", tree_sitter_javascript::language()),
        ]
    }

    #[test]
    fn the_copy_answers_every_lookup_as_the_grammar_does() {
        for (name, stock) in grammars() {
            let Some(dense) = dense_copy(&stock) else {
                panic!("{name}: no dense copy");
            };
            assert_eq!(dense.version(), stock.version(), "{name}");
            assert_eq!(dense.node_kind_count(), stock.node_kind_count(), "{name}");
            assert_eq!(dense.field_count(), stock.field_count(), "{name}");
            let states = u16::try_from(stock.parse_state_count()).unwrap_or(u16::MAX);
            // Grammar symbols only: aliases (numbered after them) and the error symbols
            // never reach the table (`ts_language_table_entry` and
            // `ts_language_next_state` answer the error symbols first).
            // SAFETY: `dense_copy` accepted this layout above.
            let raw = unsafe { *stock.clone().into_raw().cast::<RawLanguage>() };
            let symbols = u16::try_from(raw.symbol_count).unwrap_or(u16::MAX);
            assert_eq!(
                usize::from(symbols) + raw.alias_count as usize,
                stock.node_kind_count()
            );
            let mut valid = 0usize;
            // `ts_language_next_state` runs tree-sitter's own lookup on the copy's fields,
            // so a field read at the wrong offset would show here.
            for state in 0..states {
                for symbol in 0..symbols {
                    let want = stock.next_state(state, symbol);
                    assert_eq!(
                        dense.next_state(state, symbol),
                        want,
                        "{name} {state} {symbol}"
                    );
                    valid += usize::from(want != 0);
                }
            }
            assert!(
                valid > usize::from(states),
                "{name}: too few transitions ({valid})"
            );
        }
    }

    #[test]
    fn a_foreign_layout_is_refused() {
        let mut raw = [0u32; 64];
        raw[0] = MIRRORED_VERSION + 1;
        // SAFETY: only the version field is read before the copy is refused.
        let foreign = unsafe { Language::from_raw(raw.as_ptr().cast()) };
        assert!(dense_copy(&foreign).is_none());
    }
}
