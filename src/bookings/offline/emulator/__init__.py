"""Run the SAM application on this machine: moto emulates AWS, the real handlers run in-process.

``EmulatedStack`` (``stack.py``) reads ``template.yaml``, creates the stack's resources in moto,
creates the state machines from their ASL files with the template's ``DefinitionSubstitutions``
and executes them with moto's own Step Functions interpreter; Lambda tasks are dispatched
in-process to ``functions/<dir>/app.py`` with the environment the template gives each function.

What is emulated, plainly, and where:

- ``template_resolver``: the intrinsic functions, parameters and conditions, against emulated
  physical names and ARNs.
- ``resources``: the template's resources created in moto. Firehose: moto writes each
  PutRecordBatch straight to S3 as JSON Lines (no buffering, no Parquet conversion).
- ``firehose``: Firehose's data transformation, which moto does not run. For a stream with a
  Lambda processor (its ``ProcessingConfiguration``), the records put wait in a buffer; when
  the invocation that put them ends (or on ``flush_delivery_streams``), the processor runs on
  them with Firehose's event and contract, and its ``Ok`` records reach the stream's prefix,
  its failed ones the error prefix (``processing-failed``), as Firehose writes them.
- ``lambda_dispatch`` and ``environment``: Lambda. moto's needs Docker, so the interpreter's
  Lambda tasks call the handlers in this process, one at a time, each with its function's
  environment; a raised exception becomes the task's error, as in Lambda.
- ``crawler``: the Glue crawler. moto's crawl never finishes; when the state machine polls it, the
  crawl finishes and the partitions it would have found are added.
- ``event_rules``: EventBridge. moto does not start a state machine from a rule, so the upload's
  "Object Created" event is built and matched against the rule's pattern here.
- ``executions``: executions started, waited for and their states timed from their history.
"""

from bookings.offline.emulator.errors import HarnessError, LambdaInvocationError
from bookings.offline.emulator.event_rules import pattern_matches
from bookings.offline.emulator.executions import ExecutionOutcome, StateVisit
from bookings.offline.emulator.lambda_dispatch import FunctionSpec, LocalLambdaContext
from bookings.offline.emulator.stack import EmulatedStack

__all__ = [
    "EmulatedStack",
    "ExecutionOutcome",
    "FunctionSpec",
    "HarnessError",
    "LambdaInvocationError",
    "LocalLambdaContext",
    "StateVisit",
    "pattern_matches",
]
