"""Harnesses: what the executor runs on the student's namespace when a check needs more than one call
(toxlab.grading.extensions; a check asks with `student.harness(name, args, kwargs)`).

Runs in the executor, on student code: whatever it returns is only the student's answer, which the checker
validates and compares with its own reference.
"""

from __future__ import annotations


def trainer_method(ns: dict, cls: str, method: str, *args, model, call_model=None, init: dict | None = None,
                   grad: bool = False, **kwargs) -> dict:
    """Build a real `cls(model=model, args=TrainingArguments(...), **init)` from the student's Trainer subclass
    `cls` and call `method(call_model, *args, **kwargs)` (call_model: the Trainer's own model unless given).

    Returns {"value": the method's result, "grad": {classifier parameter: gradient of the loss}} (grad only
    when asked for and the result is a scalar loss that tracks gradients)."""
    import tempfile

    import torch
    from transformers import TrainingArguments

    student_cls = ns.get(cls)
    if not isinstance(student_cls, type):
        raise NameError(f"{cls} is not defined as a class")
    call_model = call_model if call_model is not None else model
    with tempfile.TemporaryDirectory() as out:
        training_args = TrainingArguments(output_dir=out, report_to="none", use_cpu=True, disable_tqdm=True)
        trainer = student_cls(model=model, args=training_args, **(init or {}))
        call_model.zero_grad(set_to_none=True)
        value = getattr(trainer, method)(call_model, *args, **kwargs)
    reply = {"value": value}
    loss = value[0] if isinstance(value, tuple) and value else value
    if grad and isinstance(loss, torch.Tensor) and loss.requires_grad and loss.dim() == 0:
        loss.backward()
        reply["grad"] = {n: p.grad for n, p in call_model.named_parameters()
                         if n.startswith("classifier.") and p.grad is not None}
    return reply


def call_recording_warnings(ns: dict, name: str, *args, **kwargs) -> dict:
    """Call the student's function `name(*args, **kwargs)`, recording the warnings it raises.

    Returns {"value": its result, "warnings": ["Category: the message's first line", ...]}. A check needs
    this where a spec says "return nan yourself": a library call that warns and returns nan gets the value
    right, and only the warning tells the two apart (the checks' own run ignores warnings)."""
    import warnings

    fn = ns.get(name)
    if not callable(fn):
        raise NameError(f"{name} is not defined")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")  # each one, even one this process has shown before
        value = fn(*args, **kwargs)
    return {"value": value, "warnings": [_warning_line(w) for w in caught]}


def _warning_line(w) -> str:
    """A warning as "Category: its message's first line", cut short (the message comes from the student's code,
    which may make it refuse to print)."""
    try:
        text = str(w.message).splitlines()[0] if str(w.message) else ""
    except Exception:  # noqa: BLE001
        text = ""
    return f"{getattr(w.category, '__name__', 'Warning')}: {text}"[:200]


HARNESSES = {"trainer_method": trainer_method, "call_recording_warnings": call_recording_warnings}
