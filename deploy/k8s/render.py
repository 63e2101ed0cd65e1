"""Render a kustomization of deploy/k8s as `kubectl kustomize` does, for the part of kustomize it uses.

    python deploy/k8s/render.py deploy/k8s/overlays/prod     # the YAML `kubectl kustomize` would print

`make test` renders every overlay with this (tests/test_k8s_overlays.py): kubectl is not a
dependency of the project, and no kustomize ships on PyPI. Where kubectl is installed, the same
test checks that both render the same objects. Anything outside the subset below is refused with
UnsupportedKustomization rather than rendered wrongly:

  resources   files (one or more YAML documents) and directories holding a kustomization.yaml
  patches     `path:` to strategic-merge patches (one or more documents), each matched by kind and
              name; no `target:`, no JSON patches, no `$patch` directives
  replicas    [{name, count}]: the Deployment of that name
  images      [{name, newName?, newTag?}]: containers whose image is that name (with or without tag)
  namespace   set on every namespaced object (a Namespace object itself is left as it is)
  labels      [{pairs, includeSelectors: false}]: added to every object's metadata.labels
"""
from __future__ import annotations

import copy
import sys
from pathlib import Path

import yaml

KUSTOMIZATION = "kustomization.yaml"
SUPPORTED = {"apiVersion", "kind", "resources", "patches", "replicas", "images", "namespace", "labels"}
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition",
                  "PersistentVolume", "StorageClass", "PriorityClass"}
# Strategic merge: lists of these fields merge item by item on the key; any other list is replaced.
MERGE_KEYS = {"containers": "name", "initContainers": "name", "env": "name", "envFrom": None,
              "volumes": "name", "volumeMounts": "mountPath", "imagePullSecrets": "name"}
PORT_KEYS = ("containerPort", "port")  # container ports merge on containerPort, Service ports on port


class UnsupportedKustomization(ValueError):
    """The kustomization uses kustomize beyond what this renderer does: say so rather than render it wrong."""


def render(directory: Path | str) -> list[dict]:
    """Every object the kustomization in `directory` produces, as `kubectl kustomize` would."""
    directory = Path(directory)
    spec = yaml.safe_load((directory / KUSTOMIZATION).read_text()) or {}
    if unknown := sorted(set(spec) - SUPPORTED):
        raise UnsupportedKustomization(f"{directory / KUSTOMIZATION}: {unknown} not supported by {__file__}")
    objects = []
    for resource in spec.get("resources", []):
        path = directory / resource
        objects += render(path) if path.is_dir() else _documents(path)
    _refuse_duplicates(objects, directory)
    for patch in spec.get("patches", []):
        _apply_patch_file(objects, patch, directory)
    for replicas in spec.get("replicas", []):
        (target,) = _matching(objects, "Deployment", replicas["name"], f"{directory}: replicas")
        target["spec"]["replicas"] = replicas["count"]
    for image in spec.get("images", []):
        _set_image(objects, image)
    if namespace := spec.get("namespace"):
        for obj in objects:
            if obj["kind"] not in CLUSTER_SCOPED:
                obj["metadata"]["namespace"] = namespace
    for labels in spec.get("labels", []):
        if labels.get("includeSelectors") or labels.get("includeTemplates"):
            raise UnsupportedKustomization(f"{directory / KUSTOMIZATION}: labels into selectors or templates")
        for obj in objects:
            obj["metadata"].setdefault("labels", {}).update(labels["pairs"])
    return objects


def _documents(path: Path) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def _refuse_duplicates(objects: list[dict], directory: Path) -> None:
    seen = set()
    for obj in objects:
        key = (obj["kind"], obj["metadata"].get("namespace"), obj["metadata"]["name"])
        if key in seen:
            raise ValueError(f"{directory}: {key[0]} {key[2]} is defined twice")  # kustomize refuses it too
        seen.add(key)


def _matching(objects: list[dict], kind: str, name: str, where: str) -> list[dict]:
    found = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    if not found:
        raise ValueError(f"{where}: no {kind} {name} to apply it to")
    return found


def _apply_patch_file(objects: list[dict], patch: dict, directory: Path) -> None:
    if set(patch) != {"path"}:
        raise UnsupportedKustomization(f"{directory / KUSTOMIZATION}: patches other than `path:` {patch}")
    for doc in _documents(directory / patch["path"]):
        where = f"{directory / patch['path']}"
        for target in _matching(objects, doc["kind"], doc["metadata"]["name"], where):
            merged = strategic_merge(target, doc, where)
            target.clear()
            target.update(merged)


def strategic_merge(original, patch, where: str = "patch"):
    """`patch` merged into `original` (neither changed): maps key by key, lists of known fields item by item."""
    if not isinstance(original, dict) or not isinstance(patch, dict):
        return copy.deepcopy(patch)
    merged = copy.deepcopy(original)
    for key, value in patch.items():
        if key.startswith("$"):
            raise UnsupportedKustomization(f"{where}: directive {key}")
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, list) and isinstance(merged.get(key), list):
            merged[key] = _merge_list(key, merged[key], value, where)
        else:
            merged[key] = strategic_merge(merged.get(key), value, where)
    return merged


def _merge_list(field: str, original: list, patch: list, where: str) -> list:
    key = MERGE_KEYS.get(field)
    if field == "ports":
        key = next((k for k in PORT_KEYS if all(isinstance(i, dict) and k in i for i in original + patch)), None)
    if key is None:
        if field in MERGE_KEYS:  # envFrom has no merge key: kustomize's result depends on its version
            raise UnsupportedKustomization(f"{where}: patching {field}")
        return copy.deepcopy(patch)
    merged = copy.deepcopy(original)
    for item in patch:
        found = next((i for i, old in enumerate(merged) if old.get(key) == item.get(key)), None)
        if found is None:
            merged.append(copy.deepcopy(item))
        else:
            merged[found] = strategic_merge(merged[found], item, where)
    return merged


def _set_image(objects: list[dict], image: dict) -> None:
    for obj in objects:
        pod = obj.get("spec", {}).get("template", {}).get("spec", {})
        for container in pod.get("containers", []) + pod.get("initContainers", []):
            name, _, tag = container["image"].partition(":")
            if name == image["name"] and "@" not in container["image"]:
                new_tag = image.get("newTag", tag)
                container["image"] = image.get("newName", name) + (f":{new_tag}" if new_tag else "")


if __name__ == "__main__":
    print(yaml.safe_dump_all(render(sys.argv[1]), sort_keys=False), end="")
