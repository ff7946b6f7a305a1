//! A fungible token: a fixed supply minted to the deployer, and transfers between
//! accounts. Every top-level `pub fn` below whose parameters and result are ABI types is a
//! contract function, except `init`, the constructor (`ghost deploy token --args 1000`).
const ghost = @import("ghost");

comptime {
    ghost.exportContract(@This());
}

const token_name = "{{name}}";

// Storage (docs/abi.md "Storage layout"): each value ABI-encoded under a key derived from
// its name; a balance under "balances" ++ 0x00 ++ the 20-byte address.
const owner_slot = ghost.Value(ghost.Address, "owner");
const supply_slot = ghost.Value(u64, "supply");
const balances = ghost.Map(ghost.Address, u64, "balances");

/// Emitted by every transfer and by the mint in `init` (from the zero address).
pub const Transfer = struct {
    from: ghost.Address,
    to: ghost.Address,
    amount: u64,
    pub const indexed = .{ "from", "to" };
};

/// The constructor: mint `supply` tokens to the deployer, who becomes the owner.
/// It runs once, inside the deploy transaction; it cannot be called afterwards.
pub fn init(supply: u64) !void {
    const owner_addr = ghost.caller();
    owner_slot.set(owner_addr);
    supply_slot.set(supply);
    balances.set(owner_addr, supply);
    ghost.emitEvent(Transfer{ .from = @splat(0), .to = owner_addr, .amount = supply });
}

/// Move `amount` tokens from the caller to `to` and emit `Transfer` (topics: from, to;
/// data: the amount as u64). Reverts with "InsufficientBalance" when the caller has less.
pub fn transfer(to: ghost.Address, amount: u64) !void {
    const from = ghost.caller();
    const from_balance = balances.getOr(from, 0);
    if (from_balance < amount) return error.InsufficientBalance;
    balances.set(from, from_balance - amount);
    // Read `to` after writing `from`, so a transfer to oneself leaves the balance as it was.
    balances.set(to, balances.getOr(to, 0) + amount);
    ghost.emitEvent(Transfer{ .from = from, .to = to, .amount = amount });
}

/// The balance of `who`.
pub fn balance_of(who: ghost.Address) u64 {
    return balances.getOr(who, 0);
}

/// The account that deployed the token.
pub fn owner() ghost.Address {
    return owner_slot.get();
}

/// The token's name.
pub fn name() ghost.String {
    return token_name;
}

/// Tokens minted by `init`.
pub fn total_supply() u64 {
    return supply_slot.get();
}
