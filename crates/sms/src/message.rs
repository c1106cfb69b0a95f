//! The one thing the providers are asked to send, and the few encodings both need.

/// One message as the providers take it: a template approved in the provider's console, its
/// parameters in the template's order, and the signature name shown before the text.
#[derive(Clone, Debug, PartialEq)]
pub struct TemplateMessage {
    /// Mainland mobile number, 11 digits.
    pub phone: String,
    pub sign_name: String,
    pub template: String,
    /// (name, value), in the template's order: Alibaba names them, Tencent numbers them.
    pub params: Vec<(String, String)>,
}

/// What a provider's answer code means for the message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Taken.
    Taken,
    /// Not now (throttled, the provider's fault, the account's balance): try again later.
    Later,
    /// Never as it stands (a bad number, a template or signature not approved, bad credentials):
    /// sending it again changes nothing.
    Never,
}
