"""Tests for the ballot contract. Run with `ghost test` (or pytest; `ghost test --target
both` runs them on WebAssembly and on ZVM); the fixtures come from ghost's pytest plugin
and run against the sandbox. Structs come back as dicts, enums as their variant names."""

import pytest

from ghost_cli.exceptions import RevertError


def test_the_deployer_is_the_chair(deploy, ghost_env):
    ballot = deploy("ballot")
    assert ballot.chair_of() == ghost_env.sender
    assert ballot.count() == 0 and ballot.proposal(0) is None


def test_propose_and_read_back(deploy, ghost_env):
    ballot = deploy("ballot")
    assert ballot.propose("Paint the shed") == 0
    assert ballot.propose("Plant trees ✓") == 1
    assert ballot.count() == 2
    assert ballot.proposal(1) == {"title": "Plant trees ✓", "creator": ghost_env.sender,
                                  "tally": [0, 0, 0], "open": True}
    assert ballot.open_ids() == [0, 1]


def test_votes_are_tallied_once_per_account(deploy, ghost_env):
    ballot = deploy("ballot")
    ballot.propose("Paint the shed")
    alice, bob = ghost_env.accounts[1], ghost_env.accounts[2]
    ballot.vote(0, "yes")
    with ghost_env.as_caller(alice):
        ballot.vote(0, "no")
        with pytest.raises(RevertError, match="AlreadyVoted"):
            ballot.vote(0, "yes")
    with ghost_env.as_caller(bob):
        ballot.vote(0, 2)  # an enum also by its integer value
    assert ballot.tally(0) == [1, 1, 1]
    assert ballot.vote_of(0, alice) == "no"
    assert ballot.vote_of(0, ghost_env.accounts[3]) is None


def test_a_vote_emits_a_typed_event(deploy, ghost_env, expect_event):
    ballot = deploy("ballot")
    ballot.propose("Paint the shed")
    receipt = ballot.vote.transact(0, "abstain")
    expect_event(receipt, "Voted", proposal=0, voter=ghost_env.sender, choice="abstain")
    # the bytes: topic 0 the struct's name, the indexed fields, the rest ABI-encoded
    (event,) = receipt.events
    assert event.topics[0] == b"Voted".ljust(32, b"\0")
    assert event.topics[1] == (0).to_bytes(32, "little")
    assert event.topics[2][:20] == ghost_env.sender
    assert event.data == bytes([2])


def test_only_the_chair_proposes_and_closes(deploy, ghost_env):
    ballot = deploy("ballot")
    ballot.propose("Paint the shed")
    with ghost_env.as_caller(ghost_env.accounts[1]):
        with pytest.raises(RevertError, match="NotChair"):
            ballot.propose("Mine")
        with pytest.raises(RevertError, match="NotChair"):
            ballot.close(0)
    ballot.close(0)
    assert ballot.proposal(0)["open"] is False and ballot.open_ids() == []
    with pytest.raises(RevertError, match="Closed"):
        ballot.vote(0, "yes")


def test_bad_input_is_refused(deploy):
    ballot = deploy("ballot")
    with pytest.raises(RevertError, match="BadTitle"):
        ballot.propose("")
    with pytest.raises(RevertError, match="NoSuchProposal"):
        ballot.vote(5, "yes")
    with pytest.raises(RevertError, match="NoSuchProposal"):
        ballot.tally(0)


def test_storage_layout(deploy, ghost_env):
    """docs/abi.md: Vec length under name ++ 0x00 ++ "len", element i under
    name ++ 0x01 ++ u64 i; a Map entry under name ++ 0x00 ++ the ABI-encoded key."""
    ballot = deploy("ballot")
    ballot.propose("T")
    ballot.vote(0, "no")
    assert ghost_env.load(ballot, b"proposals\x00len") == (1).to_bytes(8, "little")
    title = (1).to_bytes(4, "little") + b"T"
    tally = b"".join(n.to_bytes(8, "little") for n in (0, 1, 0))
    stored = title + ghost_env.sender + tally + b"\x01"
    assert ghost_env.load(ballot, b"proposals\x01" + bytes(8)) == stored
    assert ghost_env.load(ballot, b"votes\x00" + bytes(8) + ghost_env.sender) == b"\x01"
