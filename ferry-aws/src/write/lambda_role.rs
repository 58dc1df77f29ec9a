//! Lambda's answers about a function's execution role: those that mean IAM
//! has not propagated a change yet (a role made a moment ago, a policy just
//! attached), which a retry outlives, and those that are for good, turned
//! into errors that say what to change.

use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::sdk::fail::AwsError;

/// Attempts while a role's new permissions propagate (2 s apart).
pub const ROLE_TRIES: u32 = 10;

/// Lambda refusing a role IAM has not propagated yet: one created a moment
/// ago ("cannot be assumed"), or one whose X-Ray policy was just attached
/// (active tracing: "does not have permissions to call PutTraceSegments";
/// a VPC: "... to call CreateNetworkInterface on EC2").
pub fn role_not_ready<E: ProvideErrorMetadata>(e: &E) -> bool {
    e.code() == Some("InvalidParameterValueException")
        && e.message().is_some_and(|m| {
            m.contains("cannot be assumed")
                || m.contains("PutTraceSegments")
                || m.contains("CreateNetworkInterface")
        })
}

/// Lambda refusing the execution role for good, as an error that says why.
pub fn role_refused<E: ProvideErrorMetadata>(
    e: &E,
    role: &str,
    call: &'static str,
) -> Option<AwsError> {
    let message = e.message().unwrap_or_default();
    if e.code() != Some("InvalidParameterValueException") || !message.contains("role") {
        return None;
    }
    if message.contains("PutTraceSegments") {
        return Some(AwsError::Call {
            call,
            message: format!("the execution role {role} may not send X-Ray traces: {message}"),
            help: "attach AWSXRayDaemonWriteAccess (or allow xray:PutTraceSegments and xray:PutTelemetryRecords) to the stage's `role`, or set the service's `tracing = \"pass-through\"`; a role ferry manages gets the policy itself: run again once IAM has propagated it".into(),
        });
    }
    if message.contains("CreateNetworkInterface") {
        return Some(AwsError::Call {
            call,
            message: format!("the execution role {role} may not manage network interfaces in the function's VPC: {message}"),
            help: "attach AWSLambdaVPCAccessExecutionRole (or allow ec2:CreateNetworkInterface, ec2:DescribeNetworkInterfaces, ec2:DescribeSubnets, ec2:DeleteNetworkInterface, ec2:AssignPrivateIpAddresses and ec2:UnassignPrivateIpAddresses) to the stage's `role`; a role ferry manages gets the policy itself: run again once IAM has propagated it".into(),
        });
    }
    Some(AwsError::Role {
        role: role.to_owned(),
        why: message.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_smithy_types::error::ErrorMetadata;

    fn lambda(code: &str, message: &str) -> ErrorMetadata {
        ErrorMetadata::builder().code(code).message(message).build()
    }

    const XRAY: &str =
        "The provided execution role does not have permissions to call PutTraceSegments on XRAY";

    #[test]
    fn a_role_iam_has_not_propagated_is_retried() {
        let young = lambda(
            "InvalidParameterValueException",
            "The role defined for the function cannot be assumed by Lambda.",
        );
        assert!(role_not_ready(&young));
        assert!(role_not_ready(&lambda(
            "InvalidParameterValueException",
            XRAY
        )));
        assert!(!role_not_ready(&lambda(
            "InvalidParameterValueException",
            "Unzipped size must be smaller"
        )));
        assert!(!role_not_ready(&lambda("AccessDeniedException", XRAY)));
    }

    #[test]
    fn a_role_without_x_ray_says_what_to_attach() {
        let role = "arn:aws:iam::123456789012:role/own";
        let err = role_refused(
            &lambda("InvalidParameterValueException", XRAY),
            role,
            "lambda:CreateFunction",
        );
        let Some(AwsError::Call {
            call,
            message,
            help,
        }) = err
        else {
            panic!("{err:?}")
        };
        assert_eq!(call, "lambda:CreateFunction");
        assert!(message.contains(role), "{message}");
        assert!(help.contains("AWSXRayDaemonWriteAccess"), "{help}");
        let other = role_refused(
            &lambda(
                "InvalidParameterValueException",
                "The role defined for the function cannot be assumed by Lambda.",
            ),
            role,
            "lambda:CreateFunction",
        );
        assert!(matches!(other, Some(AwsError::Role { .. })), "{other:?}");
        assert!(role_refused(&lambda("ResourceConflictException", "role"), role, "x").is_none());
        let vpc = lambda(
            "InvalidParameterValueException",
            "The provided execution role does not have permissions to call CreateNetworkInterface on EC2",
        );
        assert!(role_not_ready(&vpc));
        let Some(AwsError::Call { help, .. }) =
            role_refused(&vpc, role, "lambda:UpdateFunctionConfiguration")
        else {
            panic!("a role without VPC permissions")
        };
        assert!(help.contains("AWSLambdaVPCAccessExecutionRole"), "{help}");
    }
}
