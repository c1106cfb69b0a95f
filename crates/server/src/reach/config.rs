//! Which SMS provider the server sends through, from a TOML file or the environment.
//!
//! ```toml
//! provider = "aliyun"          # or "tencent"
//! key_id = "LTAI…"             # AccessKeyId / SecretId
//! key_secret = "…"             # AccessKeySecret / SecretKey
//! sign_name = "网格通"          # the registered signature (签名)
//! app_id = "1400…"             # Tencent's SmsSdkAppId (Tencent only)
//! [templates]                  # every notice the server sends → its approved template
//! callup = "SMS_4623…"           # ${place} ${time}
//! issue_assigned = "SMS_4623…"   # ${number} ${title}
//! order_dispatched = "SMS_4623…" # ${number} ${title}
//! callup_recall = "SMS_4623…"    # ${place} ${time}
//! issue_overdue = "SMS_4623…"    # ${number} ${title} ${due}
//! household_unseen = "SMS_4623…" # ${address} ${days}
//! leader_digest = "SMS_4623…"    # ${date} ${overdue} ${unseen}
//! resident_code = "SMS_4623…"    # ${code}            (a resident's sign-in code)
//! resident_update = "SMS_4623…"  # ${number} ${status} (a resident's report moved)
//! ```
//!
//! or `GRIDMATE_SMS_PROVIDER`, `GRIDMATE_SMS_KEY_ID`, `GRIDMATE_SMS_KEY_SECRET`,
//! `GRIDMATE_SMS_SIGN_NAME`, `GRIDMATE_SMS_APP_ID` and `GRIDMATE_SMS_TEMPLATES`
//! (`callup=SMS_1,issue_assigned=SMS_2,…`). `endpoint` (`GRIDMATE_SMS_ENDPOINT`) points the
//! adapter elsewhere (a private endpoint, the tests' stand-in). A configuration that lacks a
//! template for a notice is refused at start, not at the first call-up.

use super::aliyun::Aliyun;
use super::provider::{SmsProvider, Templates};
use super::tencent::Tencent;
use crate::apply::notices::NOTICES;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmsConfig {
    pub provider: String,
    pub key_id: String,
    pub key_secret: String,
    pub sign_name: String,
    #[serde(default)]
    pub app_id: Option<String>,
    #[serde(default)]
    pub endpoint: Option<String>,
    pub templates: BTreeMap<String, String>,
}

/// What is wrong with a configuration, said to the operator at start.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("reading {0}: {1}")]
    Read(String, std::io::Error),
    #[error("{0}: {1}")]
    Toml(String, toml::de::Error),
    #[error("GRIDMATE_SMS_{0} is not set")]
    Missing(&'static str),
    #[error("unknown SMS provider {0:?}: aliyun or tencent")]
    UnknownProvider(String),
    #[error("Tencent needs app_id (SmsSdkAppId)")]
    NoAppId,
    #[error("no template for the notice {0:?} (templates: {1})")]
    NoTemplate(&'static str, String),
    #[error("GRIDMATE_SMS_TEMPLATES: {0:?} is not notice=code")]
    BadTemplateList(String),
    #[error("the HTTP client: {0}")]
    Http(String),
}

impl SmsConfig {
    pub fn from_file(path: &Path) -> Result<SmsConfig, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::Read(path.display().to_string(), e))?;
        toml::from_str(&text).map_err(|e| ConfigError::Toml(path.display().to_string(), e))
    }

    /// From `GRIDMATE_SMS_*` as `var` gives them; `None` when no provider is named.
    pub fn from_env(
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<SmsConfig>, ConfigError> {
        let Some(provider) = var("GRIDMATE_SMS_PROVIDER") else {
            return Ok(None);
        };
        let need = |name: &'static str| {
            var(&format!("GRIDMATE_SMS_{name}")).ok_or(ConfigError::Missing(name))
        };
        let mut templates = BTreeMap::new();
        for pair in need("TEMPLATES")?
            .split(',')
            .filter(|p| !p.trim().is_empty())
        {
            let (notice, code) = pair
                .split_once('=')
                .ok_or_else(|| ConfigError::BadTemplateList(pair.to_string()))?;
            templates.insert(notice.trim().to_string(), code.trim().to_string());
        }
        Ok(Some(SmsConfig {
            provider,
            key_id: need("KEY_ID")?,
            key_secret: need("KEY_SECRET")?,
            sign_name: need("SIGN_NAME")?,
            app_id: var("GRIDMATE_SMS_APP_ID"),
            endpoint: var("GRIDMATE_SMS_ENDPOINT"),
            templates,
        }))
    }

    fn templates(&self) -> Templates {
        Templates {
            sign_name: self.sign_name.clone(),
            by_notice: self.templates.clone(),
        }
    }

    /// The provider this configuration names, checked whole.
    pub fn provider(&self) -> Result<Arc<dyn SmsProvider>, ConfigError> {
        for notice in NOTICES {
            if !self.templates.contains_key(*notice) {
                let have = self
                    .templates
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ");
                return Err(ConfigError::NoTemplate(notice, have));
            }
        }
        // A provider that does not answer within 10 s is busy: the message is tried again
        // later, and the courier's lease (60 s) is never outlived by one request.
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| ConfigError::Http(e.to_string()))?;
        match self.provider.as_str() {
            "aliyun" => Ok(Arc::new(Aliyun {
                http,
                endpoint: self
                    .endpoint
                    .clone()
                    .unwrap_or_else(|| gridmate_sms::aliyun::ENDPOINT.into()),
                creds: gridmate_sms::aliyun::Credentials {
                    access_key_id: self.key_id.clone(),
                    access_key_secret: self.key_secret.clone(),
                },
                templates: self.templates(),
            })),
            "tencent" => Ok(Arc::new(Tencent {
                http,
                endpoint: self
                    .endpoint
                    .clone()
                    .unwrap_or_else(|| format!("https://{}/", gridmate_sms::tencent::HOST)),
                host: gridmate_sms::tencent::HOST.into(),
                creds: gridmate_sms::tencent::Credentials {
                    secret_id: self.key_id.clone(),
                    secret_key: self.key_secret.clone(),
                },
                app_id: self.app_id.clone().ok_or(ConfigError::NoAppId)?,
                templates: self.templates(),
            })),
            other => Err(ConfigError::UnknownProvider(other.to_string())),
        }
    }
}
