//! The OpenAPI 3.1 description of the routes, served at `GET /api/v1/openapi.json`. It names
//! every route, its parameters and answers; payload shapes are described in `docs/protocol.md`
//! and typed in `gridmate-protocol`.

pub const DOCUMENT: &str = r##"{
  "openapi": "3.1.0",
  "info": {"title": "Gridmate sync service", "version": "1"},
  "servers": [{"url": "/api/v1"}],
  "components": {
    "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
    "schemas": {
      "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}}}
    },
    "responses": {
      "Error": {"description": "an error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    }
  },
  "security": [{"bearer": []}],
  "paths": {
    "/health": {"get": {"security": [], "responses": {"200": {"description": "alive, with schema and protocol versions"}}}},
    "/session": {
      "post": {"security": [], "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["phone", "password", "device_id", "device_name"], "properties": {"phone": {"type": "string"}, "password": {"type": "string"}, "device_id": {"type": "string"}, "device_name": {"type": "string"}}}}}},
        "responses": {"200": {"description": "token, user, assignments"}, "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}, "415": {"$ref": "#/components/responses/Error"}, "422": {"$ref": "#/components/responses/Error"}, "429": {"$ref": "#/components/responses/Error"}}},
      "delete": {"responses": {"204": {"description": "this token is revoked"}, "401": {"$ref": "#/components/responses/Error"}}}
    },
    "/sync/pull": {"get": {"parameters": [{"name": "cursor", "in": "query", "schema": {"type": "string"}}, {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 5000}}],
      "responses": {"200": {"description": "a page of changes"}, "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}, "409": {"$ref": "#/components/responses/Error"}, "426": {"$ref": "#/components/responses/Error"}}}},
    "/sync/push": {"post": {"requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["device_id", "mutations"], "properties": {"device_id": {"type": "string"}, "mutations": {"type": "array", "maxItems": 500, "items": {"type": "object", "required": ["id", "kind", "recorded_at", "hlc", "data"]}}}}}}},
      "responses": {"200": {"description": "one result per mutation"}, "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "413": {"$ref": "#/components/responses/Error"}, "415": {"$ref": "#/components/responses/Error"}}}},
    "/conflicts": {"get": {"parameters": [{"name": "after", "in": "query", "schema": {"type": "integer"}}, {"name": "limit", "in": "query", "schema": {"type": "integer"}}],
      "responses": {"200": {"description": "overwritten values in the caller's grids"}, "403": {"$ref": "#/components/responses/Error"}}}},
    "/blobs/{sha256}": {
      "parameters": [{"name": "sha256", "in": "path", "required": true, "schema": {"type": "string", "pattern": "^[0-9a-fA-F]{64}$"}}],
      "head": {"responses": {"200": {"description": "the server holds the whole blob"}, "404": {"description": "not held; Upload-Offset says how much of a partial upload is"}}},
      "get": {"responses": {"200": {"description": "the photo", "content": {"image/jpeg": {}}}, "403": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}},
      "put": {"parameters": [{"name": "Content-Range", "in": "header", "schema": {"type": "string"}}],
        "responses": {"201": {"description": "complete and verified"}, "202": {"description": "part stored; Upload-Offset"}, "200": {"description": "already held"}, "409": {"$ref": "#/components/responses/Error"}, "413": {"$ref": "#/components/responses/Error"}, "415": {"$ref": "#/components/responses/Error"}, "422": {"$ref": "#/components/responses/Error"}}}
    }
  }
}"##;

#[cfg(test)]
mod tests {
    #[test]
    fn the_document_is_json_and_names_every_route() {
        let v: serde_json::Value = serde_json::from_str(super::DOCUMENT).unwrap();
        for path in [
            "/health",
            "/session",
            "/sync/pull",
            "/sync/push",
            "/conflicts",
            "/blobs/{sha256}",
        ] {
            assert!(v["paths"][path].is_object(), "{path}");
        }
    }
}
