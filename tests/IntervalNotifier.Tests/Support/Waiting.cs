namespace IntervalNotifier.Tests.Support;

/// <summary>Bounded waiting for tests that involve other threads.</summary>
internal static class Waiting
{
    /// <summary>
    /// How long a test waits for something that must happen: 20 s, or
    /// INTERVALNOTIFIER_PATIENCE_SECONDS (e.g. 4 under mutation testing, where a mutant that
    /// makes a wait hang should fail its test before the mutant's time-out instead of after it).
    /// </summary>
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(
        double.TryParse(Environment.GetEnvironmentVariable("INTERVALNOTIFIER_PATIENCE_SECONDS"), System.Globalization.CultureInfo.InvariantCulture, out double seconds) && seconds > 0 ? seconds : 20);

    /// <summary>
    /// Scales the stress tests' running times: INTERVALNOTIFIER_STRESS_SCALE (default 1; e.g.
    /// 0.25 under mutation testing, 10 for a long local run).
    /// </summary>
    public static TimeSpan Stress(TimeSpan duration) => duration * StressScale;

    /// <summary>INTERVALNOTIFIER_STRESS_SCALE, or 1 when it is unset or not a positive number.</summary>
    public static double StressScale =>
        double.TryParse(Environment.GetEnvironmentVariable("INTERVALNOTIFIER_STRESS_SCALE"), System.Globalization.CultureInfo.InvariantCulture, out double scale) && scale > 0 ? scale : 1.0;

    /// <summary>
    /// Disposes <paramref name="space"/> when the returned value is disposed, failing the test
    /// with a <see cref="TimeoutException"/> if that takes longer than <see cref="Patience"/>.
    /// An asynchronous test writes <c>await using var disposal = Waiting.DisposesInTime(space);</c>
    /// instead of <c>await using var space = …</c>: a change that leaves a bracket open for ever
    /// or a finish pending for ever (the disposal waits for them) then fails the test instead of
    /// hanging the run.
    /// </summary>
    public static BoundedDisposal DisposesInTime(AddressSpace space) => new(space);

    /// <summary>See <see cref="DisposesInTime"/>.</summary>
    public readonly struct BoundedDisposal(AddressSpace space) : IAsyncDisposable
    {
        /// <summary>Disposes the space, within <see cref="Patience"/> (else a <see cref="TimeoutException"/>).</summary>
        public ValueTask DisposeAsync() => new(space.DisposeAsync().AsTask().WaitAsync(Patience));
    }

    /// <summary>How long a test watches something that must not happen.</summary>
    public static readonly TimeSpan Watch = TimeSpan.FromMilliseconds(200);

    /// <summary>Runs <paramref name="action"/> on a dedicated thread (so it may block without starving the pool).</summary>
    public static Task<T> OnThread<T>(Func<T> action)
    {
        var tcs = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                tcs.SetResult(action());
            }
            catch (Exception e)
            {
                tcs.SetException(e);
            }
        })
        { IsBackground = true };
        thread.Start();
        return tcs.Task;
    }

    public static Task OnThread(Action action) => OnThread(() =>
    {
        action();
        return true;
    });

    /// <summary>Asserts that <paramref name="task"/> is still running after <see cref="Watch"/>.</summary>
    public static void AssertBlocked(Task task, string what)
    {
        Thread.Sleep(Watch);
        Assert.False(task.IsCompleted, $"{what} should still be waiting, but it completed ({task.Status}).");
    }

    /// <summary>Waits (bounded) for <paramref name="task"/> and returns its result.</summary>
    public static T Completes<T>(Task<T> task, string what)
    {
        Assert.True(task.Wait(Patience), $"{what} did not complete within {Patience}.");
        return task.Result;
    }

    /// <summary>Waits (bounded) for every task; false on timeout.</summary>
    public static bool AllComplete(Task[] tasks) => Task.WaitAll(tasks, Patience);

    public static void Completes(Task task, string what) =>
        Assert.True(task.Wait(Patience), $"{what} did not complete within {Patience}.");

    /// <summary>Waits (bounded) for <paramref name="signal"/>; false on timeout.</summary>
    public static bool For(ManualResetEventSlim signal) => signal.Wait(Patience, TestContext.Current.CancellationToken);

    /// <summary>Spins (bounded) until <paramref name="condition"/> holds.</summary>
    public static void Until(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting until {what}");
            Thread.Sleep(1);
        }
    }

    /// <summary>
    /// Opens a bracket that belongs to no thread (an asynchronous begin whose finishes all
    /// complete at once), so that a test can end it on any thread — a synchronous bracket must be
    /// ended on the thread that began it.
    /// </summary>
    public static InvalidationScope BeginAnywhere(this AddressSpace space, InvalidationRange range)
    {
        ValueTask<InvalidationScope> begin = space.BeginInvalidationAsync(range);
        Assert.True(begin.IsCompletedSuccessfully, "the asynchronous begin did not complete at once");
        return begin.Result;
    }
}
