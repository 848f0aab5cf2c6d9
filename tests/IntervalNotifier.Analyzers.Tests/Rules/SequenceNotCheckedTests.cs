using Verifier = IntervalNotifier.Analyzers.Tests.Verify<IntervalNotifier.Analyzers.SequenceNotCheckedAnalyzer>;

namespace IntervalNotifier.Analyzers.Tests.Rules;

/// <summary>INN0003: a read sequence that never reaches ReadRetry or CheckRetry.</summary>
public sealed class SequenceNotCheckedTests
{
    private static string Mirror(string body) => $$"""
        sealed class Mirror
        {
            private readonly object _lock = new();
            private long _copy;
            private ulong _saved;

            async Task Fault(IntervalSubscription subscription, Func<long> read, CancellationToken cancellationToken)
            {
        {{body}}
                await Task.CompletedTask;
            }

            bool Check(IntervalSubscription subscription, ulong sequence) => subscription.ReadRetry(sequence);
        }
        """;

    [Fact]
    public Task ReadBegin_NeverChecked_Reports() =>
        Verifier.AnalyzerAsync(Mirror("""
                    ulong sequence = {|#0:subscription.ReadBegin()|};
                    long value = read();
                    lock (_lock)
                    {
                        _copy = value;
                    }

                    Console.WriteLine($"published at {sequence}");
            """), Verifier.Diagnostic());

    [Fact]
    public Task ReadBeginAsync_NeverChecked_Reports() =>
        Verifier.AnalyzerAsync(Mirror("""
                    ulong sequence = await {|#0:subscription.ReadBeginAsync(cancellationToken)|};
                    _copy = read();
                    if (sequence == 0)
                    {
                        _copy = 0;
                    }
            """), Verifier.Diagnostic());

    [Fact]
    public Task ReadBegin_Discarded_Reports() =>
        Verifier.AnalyzerAsync(Mirror("""
                    {|#0:subscription.ReadBegin()|};
                    _copy = read();
            """), Verifier.Diagnostic());

    [Fact]
    public Task CheckedOrHandedOn_DoesNotReport() =>
        Verifier.AnalyzerAsync(Mirror("""
                    while (true)
                    {
                        ulong sequence = subscription.ReadBegin();
                        long value = read();
                        lock (_lock)
                        {
                            if (subscription.ReadRetry(sequence))
                            {
                                continue;
                            }

                            _copy = value;
                            break;
                        }
                    }

                    ulong early = await subscription.ReadBeginAsync(cancellationToken);
                    if (!subscription.CheckRetry(early))
                    {
                        _copy = read();
                    }

                    ulong inLambda = subscription.ReadBegin();
                    Func<bool> stale = () => subscription.ReadRetry(inLambda);
                    _ = stale;

                    ulong helper = subscription.ReadBegin();
                    _ = Check(subscription, helper);

                    _saved = subscription.ReadBegin();
            """));
}
