"""An AWS Lambda function for pare's tests: its answer depends on the event
and on the invocation's context, both handed over by the runtime interface
client (awslambdaric) from the Runtime API it polls."""


def handler(event, context):
    return {
        "hello": event.get("name"),
        "request_id": context.aws_request_id,
    }
