#!/usr/bin/env python3
"""Replays the training of an exported model from the stages its model.json records: one command
reproduces the shipped weights (issue 5), up to GPU non-determinism and the bf16 rounding of the
optimiser moments at each resume.

    python3 packaging/replay-training.py resources/models/shapes-l runs/replay --device cuda
    python3 packaging/replay-training.py resources/models/shapes-s runs/replay --print   # the plan only

A model started from another model's weights (training.initialized_from) replays that one first.
Stages that resumed a run with the same cool-down run as one `svgear train` call (a resume is an
unbroken run up to that rounding), and a stage that a time limit stopped before its cool-down ended
stops there again (--stop-at); a stage that started anew (new, continued from an export,
initialised from another model) starts a new run folder, as it did. Records older than the
`start` field: the first stage is new, the others resumed. Standard library only."""
import argparse
import json
import os
import subprocess
import sys


def current_commit():
    """The replaying source's commit, which the replayed stages record."""
    try:
        return subprocess.run(["git", "-C", os.path.dirname(os.path.abspath(__file__)), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unrecorded"


commit = current_commit()


def set_end(call, last, window):
    """The call's --steps (the schedule's end: its cool-down's) and, for a stage that a time limit
    stopped before its cool-down ended, --stop-at where it stopped, in place of the ones it has."""
    if "--stop-at" in call:
        at = call.index("--stop-at")
        del call[at:at + 2]
    end = window[1] if window else last
    tail = ["--steps", str(end)] + (["--stop-at", str(last)] if last < end else [])
    if "--steps" in call:
        at = call.index("--steps")
        call[at:at + 2] = tail
    else:
        call += tail


def stage_calls(name, training, out_root, svgear, device, source_model):
    """The `svgear train` calls that rebuild `name`; returns (calls, folder of the final export)."""
    recipe = training["recipe"]
    calls, folder, runs = [], None, 0
    previous_window = None
    for index, stage in enumerate(training["stages"]):
        start = stage.get("start", "new" if index == 0 else "resumed")
        window = stage.get("cooldown")
        last = stage["last_step"]
        if window and last > window[1]:
            sys.exit(f"{name}: the stage ending at step {last} runs past its cool-down {window}")
        merge = start == "resumed" and calls and window == previous_window
        previous_window = window
        if merge:
            set_end(calls[-1], last, window)
            continue
        if start == "resumed":  # a resumed run keeps its recipe
            call = [svgear, "train", "--out", folder]
        else:
            settings = ["--batch", str(stage.get("batch", recipe["batch"])),
                        "--lr", repr(stage.get("learning_rate", recipe["learning_rate"])),
                        "--warmup", str(stage.get("warmup_steps", recipe["warmup_steps"])),
                        "--shift", repr(stage.get("shift", recipe["shift"])),
                        "--seed", str(recipe["seed"])]
            # Stages before the text transformer existed record no text_layers: the table alone.
            settings += ["--text-layers", str(stage.get("text_layers", 0))]
            # A stage records these only where they differ from the preset's scenes and plain
            # loss; the recipe's would be the last stage's.
            if "max_objects" in stage:
                settings += ["--max-objects", str(stage["max_objects"])]
            if "object_weight" in stage:
                settings += ["--object-weight", repr(stage["object_weight"])]
            if "text_position_std" in stage:  # how the stage's new text transformer started
                settings += ["--text-position-std", repr(stage["text_position_std"])]
            runs += 1
            previous = folder
            folder = os.path.join(out_root, f"{name}.{runs}")
            call = [svgear, "train", "--out", folder] + settings
            if start == "new":
                call += ["--preset", name]
            elif start == "continued":
                call += ["--continue-from", os.path.join(previous, "model")]
            elif start == "initialized":
                call += ["--preset", name, "--init-from", source_model]
            else:
                sys.exit(f"{name}: unknown stage start '{start}'")
        set_end(call, last, window)
        call += ["--device", device, "--commit", commit]
        if window:
            call += ["--cooldown", str(window[1] - window[0])]
        calls.append(call)
    return calls, os.path.join(folder, "model")


def plan(model, out_root, svgear, device):
    training = model["training"]
    calls, source_model = [], None
    source = training.get("initialized_from")
    if source:
        source_calls, source_model = plan({"name": source["model"],
                                           "training": {"recipe": source["recipe"], "stages": source["stages"]}},
                                          out_root, svgear, device)
        calls += source_calls
    own, export = stage_calls(model["name"], training, out_root, svgear, device, source_model)
    return calls + own, export


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", help="an exported model folder (its model.json has a training record)")
    parser.add_argument("out", help="where the replayed runs go (one folder per run)")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--svgear", default=os.path.join(os.path.dirname(__file__), "..", "build", "default", "app", "svgear"))
    parser.add_argument("--print", action="store_true", help="print the calls, run nothing")
    args = parser.parse_args()
    with open(os.path.join(args.model, "model.json")) as f:
        model = json.load(f)
    if "training" not in model:
        sys.exit(f"{args.model} has no training record: it was not made by `svgear train`")
    calls, export = plan(model, args.out, args.svgear, args.device)
    for call in calls:
        print(" ".join(call), flush=True)
        if not args.print:
            subprocess.run(call, check=True)
    print(f"the replayed model: {export}")


if __name__ == "__main__":
    main()
