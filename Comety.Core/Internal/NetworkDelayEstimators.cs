namespace Comety.Internal;

/// <summary>
/// A user's network delay estimators, one per connection key (for example a browser's session),
/// so that a phone and a laptop of one user are measured apart. At most <see cref="Capacity"/>
/// keys are kept; the one used least recently makes room for a new one. Thread-safe.
/// </summary>
internal sealed class NetworkDelayEstimators
{
    /// <summary>How many keyed estimators a user keeps at most, besides the one without a key.</summary>
    public const int Capacity = 8;

    private readonly Lock _lock = new();

    // Made at once, as every user without a session uses it on every poll: no lock to find it.
    private readonly NetworkDelayEstimator _unkeyed = new();
    private List<Entry>? _keyed;
    private long _uses;

    public NetworkDelayEstimator Get(string? key)
    {
        if (key is null)
        {
            return _unkeyed;
        }

        lock (_lock)
        {
            _keyed ??= new List<Entry>(1);
            var leastRecent = -1;
            for (var i = 0; i < _keyed.Count; i++)
            {
                var entry = _keyed[i];
                if (string.Equals(entry.Key, key, StringComparison.Ordinal))
                {
                    entry.LastUse = ++_uses;
                    return entry.Estimator;
                }

                if (leastRecent < 0 || entry.LastUse < _keyed[leastRecent].LastUse)
                {
                    leastRecent = i;
                }
            }

            var created = new Entry(key, new NetworkDelayEstimator()) { LastUse = ++_uses };
            if (_keyed.Count < Capacity)
            {
                _keyed.Add(created);
            }
            else
            {
                _keyed[leastRecent] = created;
            }

            return created.Estimator;
        }
    }

    private sealed class Entry(string key, NetworkDelayEstimator estimator)
    {
        public string Key { get; } = key;

        public NetworkDelayEstimator Estimator { get; } = estimator;

        public long LastUse { get; set; }
    }
}
