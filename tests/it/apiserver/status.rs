//! `metav1.Status` error objects, shaped like k8s.io/apimachinery's `errors.New*` constructors
//! build them, so a client that parses `reason`, `code` and `details` sees what a cluster sends.

use serde_json::{Map, Value, json};

use super::resources::ResourceDef;

/// A failed request: the HTTP code plus the Status body that goes with it.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub code: u16,
    pub reason: &'static str,
    pub message: String,
    /// Boxed to keep `Result<_, ApiError>` small.
    pub details: Option<Box<Value>>,
    /// Sent as the `Retry-After` header (429 answers).
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(code: u16, reason: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            code,
            reason,
            message: message.into(),
            details: None,
            retry_after: None,
        }
    }

    fn with_details(mut self, details: Value) -> ApiError {
        self.details = Some(Box::new(details));
        self
    }

    pub fn to_json(&self) -> Value {
        let mut status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
        });
        if let Some(details) = &self.details {
            status["details"] = (**details).clone();
        }
        status["code"] = json!(self.code);
        status
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(400, "BadRequest", message)
    }

    /// `errors.NewNotFound`: `pods "x" not found`, details name + kind (the plural).
    pub fn not_found(res: &ResourceDef, name: &str) -> ApiError {
        ApiError::new(
            404,
            "NotFound",
            format!("{} \"{name}\" not found", res.qualified()),
        )
        .with_details(details(res.group, res.plural, Some(name)))
    }

    /// The answer for a path no handler serves (genericapiserver's NotFound handler).
    pub fn unknown_path() -> ApiError {
        ApiError::new(
            404,
            "NotFound",
            "the server could not find the requested resource",
        )
        .with_details(json!({}))
    }

    pub fn already_exists(res: &ResourceDef, name: &str) -> ApiError {
        ApiError::new(
            409,
            "AlreadyExists",
            format!("{} \"{name}\" already exists", res.qualified()),
        )
        .with_details(details(res.group, res.plural, Some(name)))
    }

    /// `errors.NewConflict(qualifiedResource, name, err)`.
    pub fn conflict(group: &str, resource: &str, name: &str, cause: &str) -> ApiError {
        let qualified = qualify(group, resource);
        ApiError::new(
            409,
            "Conflict",
            format!("Operation cannot be fulfilled on {qualified} \"{name}\": {cause}"),
        )
        .with_details(details(group, resource, Some(name)))
    }

    /// The optimistic-concurrency conflict of an update carrying a stale resourceVersion.
    pub fn stale(res: &ResourceDef, name: &str) -> ApiError {
        ApiError::conflict(
            res.group,
            res.plural,
            name,
            "the object has been modified; please apply your changes to the latest version and try again",
        )
    }

    /// `errors.NewInvalid(kind, name, errs)`: 422 with one cause per field error.
    pub fn invalid(res: &ResourceDef, name: &str, errs: &[FieldError]) -> ApiError {
        let qualified_kind = if res.group.is_empty() {
            res.kind.to_string()
        } else {
            format!("{}.{}", res.kind, res.group)
        };
        let rendered: Vec<String> = errs.iter().map(FieldError::to_string).collect();
        // `ToAggregate()` prints a single error bare and several as `[a, b]`.
        let aggregate = if rendered.len() == 1 {
            rendered[0].clone()
        } else {
            format!("[{}]", rendered.join(", "))
        };
        let causes: Vec<Value> = errs
            .iter()
            .map(|e| json!({"reason": e.kind.cause_type(), "message": e.body(), "field": e.field}))
            .collect();
        let mut d = Map::new();
        d.insert("name".into(), json!(name));
        if !res.group.is_empty() {
            d.insert("group".into(), json!(res.group));
        }
        d.insert("kind".into(), json!(res.kind));
        d.insert("causes".into(), Value::Array(causes));
        ApiError::new(
            422,
            "Invalid",
            format!("{qualified_kind} \"{name}\" is invalid: {aggregate}"),
        )
        .with_details(Value::Object(d))
    }

    /// The authorizer's denial, as `responsewriters.Forbidden` words it.
    pub fn forbidden(
        res: &ResourceDef,
        sub: Option<&str>,
        name: Option<&str>,
        verb: &str,
        ns: Option<&str>,
    ) -> ApiError {
        let resource = match sub {
            Some(sub) => format!("{}/{sub}", res.plural),
            None => res.plural.to_string(),
        };
        let scope = match ns {
            Some(ns) => format!("in the namespace \"{ns}\""),
            None => "at the cluster scope".to_string(),
        };
        let reason = format!(
            "User \"stand-in\" cannot {verb} resource \"{resource}\" in API group \"{}\" {scope}",
            res.group
        );
        let subject = match name {
            Some(name) => format!("{} \"{name}\"", res.qualified()),
            None => res.qualified(),
        };
        ApiError::new(
            403,
            "Forbidden",
            format!("{subject} is forbidden: {reason}"),
        )
        .with_details(details(res.group, res.plural, name))
    }

    pub fn unauthorized() -> ApiError {
        ApiError::new(401, "Unauthorized", "Unauthorized")
    }

    /// The answer a watch gets when its resourceVersion has left the event window.
    pub fn expired(requested: u64, oldest: u64) -> ApiError {
        ApiError::new(
            410,
            "Expired",
            format!("too old resource version: {requested} ({oldest})"),
        )
    }

    /// An injected fault: the reason and message a real server or proxy gives for that code.
    pub fn for_code(code: u16, reason: Option<String>, message: Option<String>) -> ApiError {
        let (default_reason, default_message): (&'static str, &str) = match code {
            400 => (
                "BadRequest",
                "the server rejected our request for an unknown reason",
            ),
            401 => ("Unauthorized", "Unauthorized"),
            403 => ("Forbidden", "forbidden"),
            404 => (
                "NotFound",
                "the server could not find the requested resource",
            ),
            409 => ("Conflict", "the server reported a conflict"),
            410 => ("Expired", "the resource has expired"),
            422 => (
                "Invalid",
                "the server rejected our request due to an error in our request",
            ),
            429 => (
                "TooManyRequests",
                "Too many requests, please try again later.",
            ),
            500 => ("InternalError", "Internal error occurred: injected fault"),
            503 => (
                "ServiceUnavailable",
                "the server is currently unable to handle the request",
            ),
            504 => (
                "Timeout",
                "Timeout: request did not complete within requested timeout - context deadline exceeded",
            ),
            _ => (
                "",
                "an error on the server has prevented the request from succeeding",
            ),
        };
        // A caller-chosen reason must outlive the request; faults are few, so leaking is fine.
        let reason: &'static str = match reason {
            Some(r) => Box::leak(r.into_boxed_str()),
            None => default_reason,
        };
        let mut err = ApiError::new(
            code,
            reason,
            message.unwrap_or_else(|| default_message.to_string()),
        );
        if code == 429 {
            err.retry_after = Some(1);
            err.details = Some(Box::new(json!({"retryAfterSeconds": 1})));
        }
        err
    }
}

fn qualify(group: &str, resource: &str) -> String {
    if group.is_empty() {
        resource.to_string()
    } else {
        format!("{resource}.{group}")
    }
}

/// `StatusDetails` as apimachinery fills it: empty group left out.
fn details(group: &str, plural: &str, name: Option<&str>) -> Value {
    let mut d = Map::new();
    if let Some(name) = name {
        d.insert("name".into(), json!(name));
    }
    if !group.is_empty() {
        d.insert("group".into(), json!(group));
    }
    d.insert("kind".into(), json!(plural));
    Value::Object(d)
}

/// The kinds of `field.Error` the stand-in produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldErrorKind {
    Forbidden,
    Invalid,
    Required,
}

impl FieldErrorKind {
    fn cause_type(self) -> &'static str {
        match self {
            FieldErrorKind::Forbidden => "FieldValueForbidden",
            FieldErrorKind::Invalid => "FieldValueInvalid",
            FieldErrorKind::Required => "FieldValueRequired",
        }
    }
}

/// One `field.Error`: what `ErrorBody()` and `Error()` print is reproduced by `body` and `Display`.
#[derive(Debug, Clone)]
pub struct FieldError {
    pub kind: FieldErrorKind,
    pub field: String,
    /// The offending value, already rendered (only printed for Invalid).
    pub value: Option<String>,
    pub detail: String,
}

impl FieldError {
    pub fn forbidden(field: impl Into<String>, detail: impl Into<String>) -> FieldError {
        FieldError {
            kind: FieldErrorKind::Forbidden,
            field: field.into(),
            value: None,
            detail: detail.into(),
        }
    }

    pub fn invalid(
        field: impl Into<String>,
        value: impl Into<String>,
        detail: impl Into<String>,
    ) -> FieldError {
        FieldError {
            kind: FieldErrorKind::Invalid,
            field: field.into(),
            value: Some(value.into()),
            detail: detail.into(),
        }
    }

    pub fn required(field: impl Into<String>, detail: impl Into<String>) -> FieldError {
        FieldError {
            kind: FieldErrorKind::Required,
            field: field.into(),
            value: None,
            detail: detail.into(),
        }
    }

    fn body(&self) -> String {
        let head = match self.kind {
            FieldErrorKind::Forbidden => "Forbidden".to_string(),
            FieldErrorKind::Required => "Required value".to_string(),
            FieldErrorKind::Invalid => {
                format!("Invalid value: {}", self.value.as_deref().unwrap_or("null"))
            }
        };
        if self.detail.is_empty() {
            head
        } else {
            format!("{head}: {}", self.detail)
        }
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.body())
    }
}
