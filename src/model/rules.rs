//! The model kind's tier-1 rules (spec/FORMAT.md §14.6, N1–N3): type name and schema text,
//! flags, and the archive's section. The archive itself is validated at first access, in
//! `model::store`.

use crate::error::Result;
use crate::raw::manifest::KIND_MODEL;
use crate::raw::validate::Validator;

impl Validator<'_> {
    /// Rules N1 to N3, for every model.
    pub(crate) fn check_models(&self) -> Result<()> {
        let m = self.m;
        let mut text_start = 0usize;
        for (row, model) in m.models.iter().enumerate() {
            let location = || format!("entry {:?}", self.entry_name(KIND_MODEL, row));
            let field = |field, reason| self.field(location(), field, reason);
            let (name_end, schema_end) = (
                model.type_name_end.to_native() as usize,
                model.schema_end.to_native() as usize,
            );
            if name_end < text_start
                || schema_end < name_end
                || !m.model_text.is_char_boundary(name_end)
                || !m.model_text.is_char_boundary(schema_end)
            {
                return Err(field(
                    "type_name_end",
                    format!(
                        "type_name_end {name_end} and schema_end {schema_end} must not decrease, must stay within the {} bytes of model_text and must not split a UTF-8 character",
                        m.model_text.len()
                    ),
                ));
            }
            text_start = schema_end;
            let flags = model.flags.to_native();
            if flags & !1 != 0 {
                return Err(self.unsupported(format!("flags of {}", location()), u64::from(flags)));
            }
            if flags == 0 && model.version != 0 {
                return Err(field(
                    "version",
                    "must be 0 when flag bit 0 (has version) is clear".into(),
                ));
            }
            self.check_buffer(&location, "section", model.section.to_native(), None, 1)?;
        }
        self.check_last_end("model", "schema_end", text_start, m.model_text.len())
    }
}
