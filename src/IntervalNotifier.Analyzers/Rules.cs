using Microsoft.CodeAnalysis;

namespace IntervalNotifier.Analyzers;

/// <summary>The rules: one descriptor each, ids stable forever (docs/analyzers/ has a page per id).</summary>
internal static class Rules
{
    public const string ScopeNotDisposedId = "INN0001";
    public const string SyncScopeAcrossAwaitId = "INN0002";
    public const string SequenceNotCheckedId = "INN0003";
    public const string MissingSetSequenceId = "INN0004";
    public const string WaitInCallbackId = "INN0005";
    public const string WaitInAsyncFinishId = "INN0006";
    public const string RecordWithFalseId = "INN0007";
    public const string RecordReturnedAfterHandOffId = "INN0008";

    // The rule pages, relative to the repository root. The project has no published docs
    // address yet (and names none it does not own); once it has one, make this its absolute
    // address of docs/analyzers/ and the IDE's links open the pages.
    internal const string HelpLinkBase = "docs/analyzers/";

    private const string Category = "Usage";

    public static readonly DiagnosticDescriptor ScopeNotDisposed = Create(
        ScopeNotDisposedId,
        "Dispose the invalidation scope on every path",
        "The invalidation scope from '{0}' {1}; until it is disposed the bracket stays open and every read of the range waits",
        "A bracket opened by BeginInvalidation, TryBeginInvalidation or BeginInvalidationAsync stays open until its scope is disposed: readers of the range wait for ever, and unsubscribes of the subscriptions it hit too. Declare the scope with 'using' (or dispose it in a 'finally').");

    public static readonly DiagnosticDescriptor SyncScopeAcrossAwait = Create(
        SyncScopeAcrossAwaitId,
        "Do not hold a synchronous invalidation scope across 'await'",
        "The scope from '{0}' belongs to the thread that began it but is still open at an 'await'; end it before the 'await', or begin the bracket with BeginInvalidationAsync",
        "A bracket from BeginInvalidation or TryBeginInvalidation belongs to the thread that began it (self-wait detection relies on that). After an 'await' the code may run on another thread, where disposing the scope ends the bracket and then throws InvalidOperationException. A bracket from BeginInvalidationAsync belongs to no thread.");

    public static readonly DiagnosticDescriptor SequenceNotChecked = Create(
        SequenceNotCheckedId,
        "Check the read sequence with ReadRetry or CheckRetry",
        "The sequence from '{0}' is never passed to ReadRetry or CheckRetry in this method; a copy published without that check may be stale",
        "ReadBegin starts a read of the primary; only ReadRetry (under the mirror's lock, before publishing) tells whether an invalidation hit the subscription meanwhile. A sequence that never reaches ReadRetry or CheckRetry protects nothing. FaultLoop.Run writes the loop once.");

    public static readonly DiagnosticDescriptor MissingSetSequence = Create(
        MissingSetSequenceId,
        "Call SetSequence before returning true from an invalidation callback",
        "'{0}' returns true on a path that does not call SetSequence; a read racing this invalidation will not retry and may publish a stale copy",
        "Invalidate and InvalidateStart must call subscription.SetSequence(currentSequence) (under the mirror's lock) before they return true, or a fault path between ReadBegin and ReadRetry does not see the invalidation. Paths that return after testing range.Owner or range.Event are not reported; suppress the warning where the mirror keeps no copy that the event could make stale.");

    public static readonly DiagnosticDescriptor WaitInCallback = Create(
        WaitInCallbackId,
        "Do not unsubscribe or begin a read inside an invalidation callback",
        "'{0}' inside '{1}' waits for the invalidation that is running this callback and throws InvalidOperationException{2}",
        "Invalidate, InvalidateStart and InvalidateFinish run inside an invalidation of the address space. Unsubscribing a subscription of it (Unsubscribe, Dispose, and their awaitable forms) and beginning a read on the subscription being invalidated would wait for that invalidation to end, so they throw. To drop a subscription from a callback, call UnsubscribeDeferred(): it never waits.");

    public static readonly DiagnosticDescriptor WaitInAsyncFinish = Create(
        WaitInAsyncFinishId,
        "Do not wait for the address space inside InvalidateFinishAsync",
        "'{0}' inside InvalidateFinishAsync waits for the invalidation this finish belongs to and throws InvalidOperationException{1}",
        "InvalidateFinishAsync, its continuations after an 'await' included, is part of the running invalidation: an unsubscribe of a subscription of the address space, or a read begin on the subscription being finished, would wait for that invalidation to end, so it throws (the awaitable forms from the call itself). To drop a subscription, call UnsubscribeDeferred(): it never waits.");

    public static readonly DiagnosticDescriptor RecordWithFalse = Create(
        RecordWithFalseId,
        "Do not return a finish record together with false",
        "InvalidateStart returns false after assigning a record to '{0}'; the core takes the record back without finishing it, and the begin throws InvalidOperationException",
        "A start callback that returns false (it would have had to wait, in a non-blockable invalidation) must return no record. Set the out parameter to null and give a rented record back to its pool before returning false.");

    public static readonly DiagnosticDescriptor RecordReturnedAfterHandOff = Create(
        RecordReturnedAfterHandOffId,
        "Do not return a pooled record the core owns",
        "'{0}' is returned to its pool after it was handed to the core in '{1}'; the core returns a pooled record itself, after its finish",
        "A record that InvalidateStart hands to the core (its out parameter, with true) belongs to the core until its finish has returned; the core then gives a pooled record back to its pool. Returning it in InvalidateStart or in the finish takes it from under the core: the core reports the misuse, and the finish may run on a record another invalidation rented.");

    private static DiagnosticDescriptor Create(string id, string title, string message, string description) =>
        new(id, title, message, Category, DiagnosticSeverity.Warning, isEnabledByDefault: true, description, HelpLinkBase + id + ".md");
}
