namespace Comety.Tests.Infrastructure;

/// <summary>Waits, with a bound, for a condition on the server side of a browser test (a browser's timing is not the test's to set).</summary>
public static class BrowserWait
{
    public static async Task UntilAsync(Func<bool> condition, string what)
    {
        using var timeout = new CancellationTokenSource(TestEvents.Bound);
        while (!condition())
        {
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(10), timeout.Token);
            }
            catch (OperationCanceledException)
            {
                throw new Xunit.Sdk.XunitException($"Waited {TestEvents.Bound.TotalSeconds} s in vain for {what}.");
            }
        }
    }
}
