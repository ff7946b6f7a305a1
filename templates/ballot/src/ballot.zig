//! A ballot: the chair (the deployer) opens proposals; every account votes once per
//! proposal, yes, no or abstain; the chair closes a proposal; anyone reads the tallies.
//! It shows the ABI's structs, fixed arrays, an enum, optionals and lists, and the
//! SDK's typed storage (ghost.Value, ghost.Map, ghost.Vec) and typed events.
const ghost = @import("ghost");

comptime {
    ghost.exportContract(@This());
}

/// A vote; its integer value indexes `Proposal.tally`.
pub const Choice = enum(u8) { yes = 0, no = 1, abstain = 2 };

pub const Proposal = struct {
    title: ghost.String,
    creator: ghost.Address,
    /// Votes per choice: yes, no, abstain.
    tally: [3]u64,
    open: bool,
};

/// Emitted by every vote: the proposal id and the voter are topics, the choice is the data.
pub const Voted = struct {
    proposal: u64,
    voter: ghost.Address,
    choice: Choice,
    pub const indexed = .{ "proposal", "voter" };
};

// Storage (docs/abi.md "Storage layout"): every value ABI-encoded under a key derived from
// its name; proposal i under "proposals" ++ 0x01 ++ u64 i, a vote under
// "votes" ++ 0x00 ++ u64 proposal ++ voter.
const chair = ghost.Value(ghost.Address, "chair");
const proposals = ghost.Vec(Proposal, "proposals");
const votes = ghost.Map(struct { u64, ghost.Address }, Choice, "votes");

/// The constructor: the deployer becomes the chair.
pub fn init() void {
    chair.set(ghost.caller());
}

/// Open a proposal titled `title`; its id (0, 1, 2...). Only the chair; a title is 1 to
/// 64 bytes.
pub fn propose(title: ghost.String) !u64 {
    if (!isChair()) return error.NotChair;
    if (title.len == 0 or title.len > 64) return error.BadTitle;
    const id = proposals.len();
    proposals.push(.{ .title = title, .creator = ghost.caller(), .tally = .{ 0, 0, 0 }, .open = true });
    return id;
}

/// Vote `choice` on proposal `id`, once per account; emits `Voted`.
pub fn vote(id: u64, choice: Choice) !void {
    var p = proposals.get(id) orelse return error.NoSuchProposal;
    if (!p.open) return error.Closed;
    const voter = ghost.caller();
    if (votes.has(.{ id, voter })) return error.AlreadyVoted;
    votes.set(.{ id, voter }, choice);
    p.tally[@backingInt(choice)] += 1;
    proposals.set(id, p);
    ghost.emitEvent(Voted{ .proposal = id, .voter = voter, .choice = choice });
}

/// Stop the voting on proposal `id`. Only the chair.
pub fn close(id: u64) !void {
    if (!isChair()) return error.NotChair;
    var p = proposals.get(id) orelse return error.NoSuchProposal;
    p.open = false;
    proposals.set(id, p);
}

/// Proposal `id`, or null when there is none.
pub fn proposal(id: u64) ?Proposal {
    return proposals.get(id);
}

/// The number of proposals.
pub fn count() u64 {
    return proposals.len();
}

/// The votes on proposal `id`: yes, no, abstain.
pub fn tally(id: u64) ![3]u64 {
    const p = proposals.get(id) orelse return error.NoSuchProposal;
    return p.tally;
}

/// How `voter` voted on proposal `id`, or null when they have not.
pub fn vote_of(id: u64, voter: ghost.Address) ?Choice {
    return votes.get(.{ id, voter });
}

/// The ids of the open proposals among the first 64.
pub fn open_ids() []const u64 {
    const S = struct {
        var ids: [64]u64 = undefined;
    };
    var n: usize = 0;
    var i: u64 = 0;
    while (i < @min(proposals.len(), S.ids.len)) : (i += 1) {
        if (proposals.get(i).?.open) {
            S.ids[n] = i;
            n += 1;
        }
    }
    return S.ids[0..n];
}

/// The chair.
pub fn chair_of() ghost.Address {
    return chair.get();
}

fn isChair() bool {
    const me = ghost.caller();
    const c = chair.get();
    return @import("std").mem.eql(u8, &me, &c);
}
