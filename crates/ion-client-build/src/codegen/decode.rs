//! How a response struct decodes and encodes: one `decode_struct!` call per struct (the
//! runtime's macro, documented there), listing each field with its response key. The calls are
//! written as text in the layout a reader expects, one field per line, after the module's
//! formatted items: a formatter prints a macro's tokens as one run.

use std::fmt::Write as _;

/// One `decode_struct!` call.
pub(crate) struct DecodeCall {
    /// The struct.
    pub name: String,
    /// Its response keys, flat, in order.
    pub fields: Vec<DecodeField>,
    /// How a struct holding fragments is built from the locals; `None` for a struct whose
    /// fields are its keys.
    pub build: Option<Build>,
}

/// One response key of a [`DecodeCall`].
pub(crate) struct DecodeField {
    /// The local the value is read into (the field's name in a plain struct).
    pub local: String,
    /// The response key.
    pub key: String,
    /// The field path of the value from the struct (`run_summary.id`); only for a struct
    /// holding fragments.
    pub path: Vec<String>,
}

/// A struct literal built from locals.
pub(crate) struct Build {
    /// The type as written from the module (`fragments::RunSummary`).
    pub ty: String,
    /// `(field, value)`.
    pub fields: Vec<(String, BuildValue)>,
}

/// The value of a [`Build`] field.
pub(crate) enum BuildValue {
    /// A local of the call.
    Local(String),
    /// A fragment's struct, built the same way.
    Nested(Build),
}

/// Lines longer than this put a nested struct's fields one per line.
const WIDTH: usize = 100;

impl Build {
    /// The literal's fields, one per line at `indent`, then the closing brace one level out.
    fn fields(&self, indent: usize, out: &mut String) {
        let pad = " ".repeat(indent);
        for (name, value) in &self.fields {
            match value {
                BuildValue::Local(local) if local == name => {
                    let _ = writeln!(out, "{pad}{name},");
                }
                BuildValue::Local(local) => {
                    let _ = writeln!(out, "{pad}{name}: {local},");
                }
                BuildValue::Nested(build) => {
                    let inline = format!("{pad}{name}: {},", build.inline());
                    if inline.len() <= WIDTH && !inline.contains('\n') {
                        out.push_str(&inline);
                        out.push('\n');
                    } else {
                        let _ = writeln!(out, "{pad}{name}: {} {{", build.ty);
                        build.fields(indent + 4, out);
                        let _ = writeln!(out, "{pad}}},");
                    }
                }
            }
        }
    }

    /// `Type { a, b: c }` on one line.
    fn inline(&self) -> String {
        let fields: Vec<String> = self
            .fields
            .iter()
            .map(|(name, value)| match value {
                BuildValue::Local(local) if local == name => name.clone(),
                BuildValue::Local(local) => format!("{name}: {local}"),
                BuildValue::Nested(build) => format!("{name}: {}", build.inline()),
            })
            .collect();
        format!("{} {{ {} }}", self.ty, fields.join(", "))
    }
}

impl DecodeCall {
    /// The call, `rt` being the runtime's path (`::ion_client`, `crate`).
    pub fn render(&self, rt: &str) -> String {
        let mut out = format!("{rt}::__private::decode_struct!({} {{\n", self.name);
        for (i, f) in self.fields.iter().enumerate() {
            let _ = write!(out, "    {i} => {} = {:?}", f.local, f.key);
            if self.build.is_some() {
                let _ = write!(out, " @ {}", f.path.join("."));
            }
            out.push_str(",\n");
        }
        match &self.build {
            None => out.push_str("});\n"),
            Some(build) => {
                let _ = writeln!(out, "}} => {} {{", build.ty);
                build.fields(4, &mut out);
                out.push_str("});\n");
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(local: &str, key: &str) -> DecodeField {
        DecodeField {
            local: local.into(),
            key: key.into(),
            path: Vec::new(),
        }
    }

    #[test]
    fn a_plain_struct_lists_one_key_per_line() {
        let call = DecodeCall {
            name: "Run".into(),
            fields: vec![plain("id", "id"), plain("etag", "_etag")],
            build: None,
        };
        assert_eq!(
            call.render("::ion_client"),
            "::ion_client::__private::decode_struct!(Run {\n    0 => id = \"id\",\n    1 => etag = \"_etag\",\n});\n"
        );
    }

    #[test]
    fn a_struct_holding_fragments_says_where_each_key_lives() {
        let at = |local: &str, key: &str, path: &[&str]| DecodeField {
            path: path.iter().map(|s| s.to_string()).collect(),
            ..plain(local, key)
        };
        let call = DecodeCall {
            name: "Run".into(),
            fields: vec![
                at("id", "id", &["run_summary", "id"]),
                at("title", "title", &["run_summary", "title_2"]),
                at("description", "description", &["description"]),
            ],
            build: Some(Build {
                ty: "Run".into(),
                fields: vec![
                    (
                        "run_summary".into(),
                        BuildValue::Nested(Build {
                            ty: "fragments::RunSummary".into(),
                            fields: vec![
                                ("id".into(), BuildValue::Local("id".into())),
                                ("title_2".into(), BuildValue::Local("title".into())),
                            ],
                        }),
                    ),
                    (
                        "description".into(),
                        BuildValue::Local("description".into()),
                    ),
                ],
            }),
        };
        assert_eq!(
            call.render("crate"),
            "crate::__private::decode_struct!(Run {\n    0 => id = \"id\" @ run_summary.id,\n    1 => title = \"title\" @ run_summary.title_2,\n    2 => description = \"description\" @ description,\n} => Run {\n    run_summary: fragments::RunSummary { id, title_2: title },\n    description,\n});\n"
        );
    }
}
