//! Dispatch from a runtime [`Dtype`](brine::Dtype) to the element type brine's typed API wants.

/// Runs `$body` with `$T` bound to the Rust element type of `$dtype`; a dtype this build of
/// the tool does not know is a data error.
macro_rules! with_element {
    ($dtype:expr, $T:ident => $body:expr) => {{
        use brine::Dtype;
        match $dtype {
            Dtype::Bool => {
                type $T = bool;
                $body
            }
            Dtype::I8 => {
                type $T = i8;
                $body
            }
            Dtype::I16 => {
                type $T = i16;
                $body
            }
            Dtype::I32 => {
                type $T = i32;
                $body
            }
            Dtype::I64 => {
                type $T = i64;
                $body
            }
            Dtype::U8 => {
                type $T = u8;
                $body
            }
            Dtype::U16 => {
                type $T = u16;
                $body
            }
            Dtype::U32 => {
                type $T = u32;
                $body
            }
            Dtype::U64 => {
                type $T = u64;
                $body
            }
            Dtype::F16 => {
                type $T = half::f16;
                $body
            }
            Dtype::BF16 => {
                type $T = half::bf16;
                $body
            }
            Dtype::F32 => {
                type $T = f32;
                $body
            }
            Dtype::F64 => {
                type $T = f64;
                $body
            }
            other => Err($crate::error::CliError::Data(format!(
                "dtype {other} is not supported by this version of the brine tool"
            ))),
        }
    }};
}

pub(crate) use with_element;
