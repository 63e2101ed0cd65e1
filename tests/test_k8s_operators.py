"""The example manifests for the Kafka and MongoDB operators (deploy/k8s/operators) stay in step with the
registry's topics, the overlays' settings and the versions the project runs, and stay out of the overlays."""
from __future__ import annotations

import importlib.util
import re
from functools import cache
from pathlib import Path

import pytest
import yaml

from crm_platform import registry
from crm_platform.kafka_clients import dead_letter_topic

REPO = Path(__file__).resolve().parents[1]
K8S = REPO / "deploy" / "k8s"
OPERATORS = K8S / "operators"
OPERATOR_KINDS = {"Kafka", "KafkaNodePool", "KafkaTopic", "MongoDBCommunity"}


def docs(name: str) -> list[dict]:
    return [d for d in yaml.safe_load_all((OPERATORS / name).read_text()) if d]


def one(name: str, kind: str) -> dict:
    (found,) = [d for d in docs(name) if d["kind"] == kind]
    return found


@cache
def rendered(overlay: str) -> tuple[dict, ...]:
    """The overlay's objects, rendered by deploy/k8s/render.py (loaded once: it is a script, not a package)."""
    spec = importlib.util.spec_from_file_location("k8s_render", K8S / "render.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return tuple(module.render(K8S / "overlays" / overlay))


def prod_settings() -> dict:
    (platform,) = [o for o in rendered("prod") if o["kind"] == "ConfigMap" and o["metadata"]["name"] == "crm-platform"]
    return platform["data"]


def test_a_kafka_topic_for_every_topic_of_the_registry_and_its_dead_letters():
    produced = {t for s in registry.load().services for t in s.produces}
    expected = produced | {dead_letter_topic(t) for t in produced}
    topics = [d for d in docs("kafka-topics.yaml") if d["kind"] == "KafkaTopic"]
    named = [t["spec"]["topicName"] for t in topics]
    assert sorted(named) == sorted(expected), f"operators/kafka-topics.yaml names {sorted(named)}, expected {sorted(expected)}"


def test_the_topics_belong_to_the_cluster_and_survive_a_broker_lost():
    cluster, pool = one("kafka.yaml", "Kafka"), one("kafka.yaml", "KafkaNodePool")
    brokers = pool["spec"]["replicas"] if "broker" in pool["spec"]["roles"] else 0
    partitions = int(prod_settings()["KAFKA_TOPIC_PARTITIONS"])
    for topic in (d for d in docs("kafka-topics.yaml") if d["kind"] == "KafkaTopic"):
        where = f"KafkaTopic {topic['metadata']['name']}"
        assert topic["metadata"]["labels"]["strimzi.io/cluster"] == cluster["metadata"]["name"], where
        assert topic["metadata"]["namespace"] == cluster["metadata"]["namespace"], where
        assert 2 <= topic["spec"]["config"]["min.insync.replicas"] < topic["spec"]["replicas"] <= brokers, where
        assert topic["spec"]["partitions"] == partitions, f"{where}: KAFKA_TOPIC_PARTITIONS is {partitions} in prod"
    assert pool["metadata"]["labels"]["strimzi.io/cluster"] == cluster["metadata"]["name"]
    assert cluster["spec"]["kafka"]["config"]["auto.create.topics.enable"] is False


def test_the_services_are_pointed_at_the_clusters_plaintext_listener():
    cluster = one("kafka.yaml", "Kafka")
    (plain,) = [item for item in cluster["spec"]["kafka"]["listeners"] if item["tls"] is False]
    expected = f"{cluster['metadata']['name']}-kafka-bootstrap.{cluster['metadata']['namespace']}.svc:{plain['port']}"
    assert prod_settings()["KAFKA_BOOTSTRAP_SERVERS"] == expected


def test_the_kafka_and_mongodb_versions_are_the_ones_the_project_runs():
    pom = (REPO / "infra" / "kafka" / "pom.xml").read_text()
    assert one("kafka.yaml", "Kafka")["spec"]["kafka"]["version"] == re.search(r"<kafka\.version>([^<]+)<", pom)[1]
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    mongo_major = compose["services"]["mongo"]["image"].split(":")[1].split(".")[0]
    assert one("mongodb.yaml", "MongoDBCommunity")["spec"]["version"].split(".")[0] == mongo_major


def test_mongodb_is_a_replica_set_whose_password_is_referred_to():
    mongo = one("mongodb.yaml", "MongoDBCommunity")
    assert mongo["spec"]["type"] == "ReplicaSet" and mongo["spec"]["members"] >= 3
    for user in mongo["spec"]["users"]:
        assert set(user["passwordSecretRef"]) == {"name"}, "the password stays in a Secret created apart"
    assert not [d for name in ("kafka.yaml", "kafka-topics.yaml", "mongodb.yaml") for d in docs(name) if d["kind"] == "Secret"]


@pytest.mark.parametrize("overlay", ["dev", "prod"])
def test_the_overlays_leave_the_operators_resources_to_the_operators(overlay):
    kustomizations = [p.read_text() for p in K8S.rglob("kustomization.yaml")]
    assert not [k for k in kustomizations if "operators" in re.sub(r"#.*", "", k)]
    kinds = {o["kind"] for o in rendered(overlay)}
    assert not kinds & OPERATOR_KINDS
