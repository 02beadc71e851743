using Comety.Chat;

ChatApplication.Create(args).Run();
