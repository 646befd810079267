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


HARNESSES = {"trainer_method": trainer_method}
