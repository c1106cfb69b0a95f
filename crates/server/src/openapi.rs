//! The OpenAPI 3.1 document served at `GET /api/v1/openapi.json`, generated from the code: the
//! routes and their answers from the `#[utoipa::path]` attribute on each handler in [`api`], the
//! bodies from the wire types of `gridmate-protocol` (their `ToSchema` derives). What every
//! route can answer besides its own outcomes — a malformed request, no or a bad token, a body
//! too large, the wrong protocol version, a timeout, an internal error — is added to each
//! operation by [`ProtocolErrors`], so the document cannot forget a route.
//!
//! CI checks the served document against the running server with schemathesis
//! (`scripts/schemathesis.sh`): no 500s, no status or body the document does not describe.

use crate::api;
use gridmate_protocol::*;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "Gridmate sync service", version = "1",
        description = "The sync contract between the Gridmate app and the central service (PROTOCOL.md)."),
    servers((url = "/api/v1")),
    paths(
        api::health, api::session::login, api::session::logout, api::sync::pull,
        api::sync::push, api::sync::wake, api::sync::conflicts, api::blobs::blob_head, api::blobs::blob_get,
        api::blobs::blob_put, api::office::issues, api::office::issue, api::office::orders,
        api::office::order, api::office::households, api::office::household, api::office::patrols, api::office::patrol, api::office::commitments, api::office::people, api::office::devices,
        api::office::revoke_device, api::office::reset_password, api::office::audit,
        api::office::stats, api::office::export, api::office::import_people, api::office::import_base_map, api::office::callups, api::office::messages,
        api::office::departments, api::office::put_department, api::office::time_limits,
        api::office::set_time_limits, api::office::post_person, api::office::issue_step,
        api::office::order_step, api::office::new_order
    ),
    components(schemas(
        ErrorBody, ErrorDetail, Health, LoginRequest, LoginResponse, UserInfo, AssignmentInfo,
        Entity, Op, RawChange, RawPullPage, PushRequest, Mutation, PushStatus, PushResult,
        PushResponse, api::office::NewPassword, api::office::DepartmentBody,
        crate::app::limits::TimeLimitsBody, crate::app::limits::TimeLimitEntry, api::office::NewPersonBody,
        api::office::IssueStepBody, api::office::OrderStepBody, api::office::NewOrderBody,
        api::office::CommandAnswer
    )),
    security(("bearer" = [])),
    modifiers(&ProtocolErrors)
)]
struct ApiDoc;

/// The bearer scheme, and the answers any route may give.
struct ProtocolErrors;

impl Modify for ProtocolErrors {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        doc.components
            .get_or_insert_with(Default::default)
            .add_security_scheme(
                "bearer",
                SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
            );
        let error = |what: &str| {
            RefOr::T(
                ResponseBuilder::new()
                    .description(what)
                    .content(
                        "application/json",
                        utoipa::openapi::ContentBuilder::new()
                            .schema(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
                                "ErrorBody",
                            ))))
                            .build(),
                    )
                    .build(),
            )
        };
        for (path, item) in doc.paths.paths.iter_mut() {
            let public = path == "/health";
            let office = path.starts_with("/office/");
            for op in [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.head,
            ]
            .into_iter()
            .flatten()
            {
                let mut add = |code: &str, what: &str| {
                    op.responses
                        .responses
                        .entry(code.to_string())
                        .or_insert_with(|| error(what));
                };
                add("400", "malformed: the request cannot be read");
                if !public {
                    add(
                        "401",
                        "unauthorized, invalid_token, token_revoked or token_expired",
                    );
                }
                add("408", "the request took too long");
                add("413", "the body is too large");
                add("415", "the body is not JSON");
                add(
                    "426",
                    "unsupported_protocol: this app speaks another protocol version",
                );
                add("500", "internal error (never with details)");
                if office {
                    add(
                        "403",
                        "forbidden: not an office role, or not this role's to do",
                    );
                    add(
                        "422",
                        "invalid: an unknown code, a bad period or limit, a grid or person not yours",
                    );
                }
            }
        }
    }
}

/// The document, as served.
pub fn document() -> String {
    ApiDoc::openapi()
        .to_pretty_json()
        .unwrap_or_else(|_| "{}".into())
}
