namespace Comety.Tests.Infrastructure;

/// <summary>Short ways to build event arguments and to wait on the code under test with a bound.</summary>
public static class TestEvents
{
    /// <summary>How long a test waits for something the code under test should do promptly.</summary>
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    public static Dictionary<string, object?> Args(string type, params (string Name, object? Value)[] more)
    {
        var args = new Dictionary<string, object?> { [CometyEvent.TypeArgument] = type };
        foreach (var (name, value) in more)
        {
            args[name] = value;
        }

        return args;
    }

    public static Task<T> Bounded<T>(this ValueTask<T> task) => task.AsTask().WaitAsync(Bound);

    public static Task Bounded(this ValueTask task) => task.AsTask().WaitAsync(Bound);

    public static Task<T> Bounded<T>(this Task<T> task) => task.WaitAsync(Bound);

    public static Task Bounded(this Task task) => task.WaitAsync(Bound);

    public static IEnumerable<long> Sequences(this PollResult result) => result.Events?.Select(e => e.Sequence) ?? [];

    public static IEnumerable<string> Types(this PollResult result) => result.Events?.Select(e => e.Type) ?? [];
}
