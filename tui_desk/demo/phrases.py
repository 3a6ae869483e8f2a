"""What the demo's people are called and what they write: names, topics, the customers' and
agents' texts in each language (data for demo.mailbox.Generator)."""

SUPPORT_ADDR = "support@helpdesk.test"
AGENTS = [
    ("Alice Martin", "agent1@helpdesk.test"),
    ("Bob Okafor", "agent2@helpdesk.test"),
    ("Chen Wei", "agent3@helpdesk.test"),
]

EN_FIRST = ["James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda", "David",
            "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas",
            "Sarah", "Carlos", "Karen", "Daniel", "Nancy", "Matthew", "Lisa", "Anthony", "Betty",
            "Mark", "Sandra", "Paul", "Ashley", "Steven", "Emily", "Andrew", "Olivia", "Kevin",
            "Sophie", "Lukas", "Anna", "Pierre", "Camille", "Giulia", "Marco", "Sven", "Ingrid"]
EN_LAST = ["Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis",
           "Rodriguez", "Martinez", "Hernandez", "Lopez", "Wilson", "Anderson", "Taylor", "Moore",
           "Jackson", "Lee", "Harris", "Clark", "Lewis", "Walker", "Young", "King", "Wright",
           "O'Brien", "Müller", "Schmidt", "Dubois", "Rossi", "Jensen", "Novak", "Kowalski"]
RU_NAMES = [("Иван", "Петров", "ivan.petrov"), ("Мария", "Смирнова", "m.smirnova"),
            ("Алексей", "Кузнецов", "alexey.k"), ("Ольга", "Соколова", "olga.sokolova"),
            ("Дмитрий", "Попов", "dpopov"), ("Екатерина", "Волкова", "katya.volkova"),
            ("Сергей", "Морозов", "s.morozov"), ("Наталья", "Лебедева", "natalia.l"),
            ("Андрей", "Новиков", "andrey.novikov"), ("Юлия", "Фёдорова", "yulia.f")]
ZH_NAMES = [("王", "伟", "wang.wei"), ("李", "娜", "li.na"), ("张", "敏", "zhang.min"),
            ("刘", "洋", "liu.yang"), ("陈", "静", "chen.jing"), ("杨", "磊", "yang.lei"),
            ("赵", "丽", "zhao.li"), ("黄", "强", "huang.qiang")]
JA_NAMES = [("佐藤", "健", "sato.ken"), ("鈴木", "花子", "suzuki.h"), ("高橋", "誠", "takahashi")]
DOMAINS = {"en": ["example.com", "example.net", "example.org", "mail.example", "corp.example"],
           "ru": ["example.ru", "mail.example.ru", "yandex.example"],
           "zh": ["example.cn", "qq.example", "163.example"],
           "ja": ["example.jp", "docomo.example"]}
TZ = {"en": [-8, -5, 0, 1, 2], "ru": [3, 5, 7], "zh": [8], "ja": [9]}
PRODUCTS = ["Pro plan", "Starter plan", "wireless headphones", "standing desk", "coffee grinder",
            "backpack", "smart watch", "yoga mat", "office chair", "mechanical keyboard"]

# topic -> (subject template, key of the bodies that go with it): each subject has bodies of
# its own, so a conversation's first mail and the agents' answers are about what it says
EN_TOPICS = [
    ("Refund for order #{order}", "refund"),
    ("Where is my order #{order}?", "shipping"),
    ("Order #{order} arrived damaged", "damaged"),
    ("Charged twice for order #{order}", "charged_twice"),
    ("Cannot log in to my account", "login"),
    ("Password reset link not working", "reset"),
    ("Invoice {invoice} is wrong", "invoice"),
    ("Cancel my subscription", "cancel"),
    ("Change shipping address for order #{order}", "address"),
    ("App crashes on startup (v{version})", "crash"),
    ("API returns 500 on /v2/orders", "api"),
    ("Export to CSV is missing columns", "export"),
    ("Discount code {code} not applied", "discount"),
    ("Question about pricing plans", "presales"),
    ("Feature request: dark mode", "feature"),
    ("Wrong size, need an exchange (order #{order})", "exchange"),
    ("How do I change my email address?", "email"),
    ("Please delete my account and data (GDPR)", "gdpr"),
]
RU_TOPICS = [("Возврат средств за заказ #{order}", "refund"), ("Где мой заказ #{order}?", "shipping"),
             ("Не могу войти в аккаунт", "login"), ("Списали деньги дважды", "charged_twice"),
             ("Отмените подписку", "cancel"), ("Заказ #{order} пришёл повреждённым", "damaged")]
ZH_TOPICS = [("订单 #{order} 退款", "refund"), ("我的订单 #{order} 在哪里？", "shipping"),
             ("无法登录账户", "login"), ("发票有误", "invoice"), ("取消订阅", "cancel")]
JA_TOPICS = [("注文 #{order} の返金について", "refund"), ("ログインできません", "login")]
EMOJI_SUBJECTS = [("Refund please 🙏 order #{order}", "refund"),
                  ("📦 package never arrived (#{order})", "shipping"),
                  ("😡 still no answer about order #{order}", "shipping"),
                  ("Love the app ❤️ but export is broken", "export"),
                  ("🔥 checkout is down?!", "checkout"),
                  ("Thanks!!! 🎉 but one more question", "question")]
URGENT = {"en": ["URGENT: {s}", "URGENT!!! {s}", "[URGENT] {s}", "{S} - URGENT", "ASAP: {s}"],
          "ru": ["СРОЧНО: {s}", "Срочно! {s}"], "zh": ["紧急：{s}", "【紧急】{s}"],
          "ja": ["至急：{s}"]}
RE_PREFIX = {"en": ["Re: ", "Re: ", "Re: ", "RE: ", "AW: ", "Re: Re: "], "ru": ["Re: ", "Ответ: "],
             "zh": ["Re: ", "回复："], "ja": ["Re: ", "RE: "]}

CUSTOMER_EN = {
    "refund": ["I would like a refund for order #{order}. The {product} is not what I expected.",
               "I returned the {product} two weeks ago and still have not received my money back.",
               "Can you please process the refund? I attached the receipt."],
    "shipping": ["My order #{order} was supposed to arrive last week. The tracking page has not "
                 "changed for 6 days.", "Could you tell me where the package is?",
                 "I need it before Friday, it is a gift."],
    "damaged": ["The {product} from order #{order} arrived with a cracked case.",
                "The box was crushed. Photos attached. What are my options?"],
    "charged_twice": ["I was charged twice for order #{order}, see the two lines on my card statement.",
                      "Please refund the second charge."],
    "invoice": ["The invoice {invoice} shows the wrong VAT number and company name.",
                "Could you send a corrected invoice? Our accounting needs it this month."],
    "discount": ["The discount code {code} was accepted at checkout but the total did not change.",
                 "Can you apply the discount to my order #{order} afterwards?"],
    "login": ["I cannot log in since yesterday. It says 'invalid credentials' but the password is "
              "right.", "I use two-factor authentication and lost my phone, so I cannot log in."],
    "reset": ["The password reset link in the email says it has expired, even right after I "
              "request it.", "I tried three times, in two browsers. The reset link never works."],
    "cancel": ["Please cancel my subscription at the end of this billing period.",
               "I do not want to be charged again. Confirm the cancellation please."],
    "address": ["I moved last week: please ship order #{order} to my new address.",
                "The new address is in my profile. Can you change it before the order ships?"],
    "crash": ["Since version {version} the app crashes right after the splash screen.",
              "Reinstalling did not help, it still crashes on startup."],
    "api": ["Our integration gets HTTP 500 from /v2/orders for about 10% of requests.",
            "The 500 errors started yesterday; the request IDs are in the attached log."],
    "export": ["Steps: open Reports, choose Export, press CSV. The file has only 3 columns.",
               "The CSV export used to include the customer and the total; those columns are missing now."],
    "presales": ["We are a team of 12. Which plan fits us, and is there a yearly discount?",
                 "Do you offer an invoice instead of card payment for the plans?"],
    "feature": ["Dark mode would make the app much easier on the eyes at night.",
                "Is dark mode on the roadmap? Happy to beta test."],
    "exchange": ["The {product} from order #{order} is the wrong size. Can I exchange it for a bigger one?",
                 "I would rather exchange it than get a refund."],
    "email": ["How can I change the email address on my account?",
              "My old email address will stop working at the end of the month."],
    "gdpr": ["Please delete my account and all personal data, according to GDPR.",
             "Confirm in writing when my data is deleted."],
    "checkout": ["Checkout fails with an error when I press Pay, every time.",
                 "Is the checkout down? I tried two cards."],
    "question": ["Thanks, the last answer helped a lot! One more question: can I add a second user "
                 "to my plan?", "And does the second user need their own login?"],
}
FOLLOWUP_EN = ["Any update on this?", "Hello?? I wrote yesterday and nobody answered.",
               "Sorry, forgot to add: my order number is #{order}.", "Still waiting...",
               "Thanks, that worked!", "That did not help, the problem is still there.",
               "OK, I tried again and now I get a different error.",
               "Could you call me instead? My number is in my profile."]
BURST_EN = ["Hello, I need help with this right now.", "Why is nobody answering?!",
            "This is the third email. Please respond."]
CUSTOMER_LANG = {
    "ru": {"refund": "Прошу вернуть деньги за заказ #{order}, товар не подошёл.",
           "shipping": "Здравствуйте! Заказ #{order} до сих пор не пришёл, трек-номер не обновляется.",
           "login": "Не могу войти в личный кабинет, пишет «неверный пароль».",
           "charged_twice": "С карты списали оплату дважды. Пожалуйста, верните одну.",
           "cancel": "Прошу отменить подписку с конца текущего периода.",
           "damaged": "Заказ #{order} пришёл повреждённым: коробка смята, корпус треснул."},
    "zh": {"refund": "请为订单 #{order} 办理退款，商品与描述不符。",
           "shipping": "您好，我的订单 #{order} 还没有收到，物流信息一周没有更新。",
           "login": "我无法登录我的账户，提示密码错误。",
           "invoice": "发票上的公司名称和税号有误，请重新开具发票。",
           "cancel": "请取消我的订阅，下个周期不要再扣费。"},
    "ja": {"refund": "注文 #{order} の返金をお願いします。商品が説明と違いました。",
           "login": "ログインできません。パスワードは正しいはずです。"},
}
FOLLOWUP_LANG = {"ru": ["Есть новости по моему обращению?", "Спасибо, всё получилось!"],
                 "zh": ["请问有进展吗？谢谢！", "谢谢，问题解决了！"],
                 "ja": ["その後いかがでしょうか？", "ありがとうございました。解決しました。"]}
AGENT_EN = {
    "refund": ["I have issued a full refund for order #{order}. It should appear on your "
               "statement within 5-10 business days.", "To start the return, please use the "
               "prepaid label I attached to this email."],
    "shipping": ["I checked with the carrier: your parcel is in the regional depot and should "
                 "be delivered within 2 business days.", "I have sent a replacement by express "
                 "shipping at no cost to you."],
    "damaged": ["I am sorry the {product} arrived damaged. A replacement is on its way; no need "
                "to send the broken one back."],
    "charged_twice": ["You are right, the second charge was a duplicate authorization. It has been "
                      "voided and will disappear in a few days."],
    "invoice": ["I corrected the invoice; the new PDF is available in your account under Billing."],
    "discount": ["I applied the discount code {code} to order #{order} and refunded the difference."],
    "login": ["I reset your login. Please use the link below within 30 minutes.",
              "I disabled two-factor authentication on your account so you can log in and set "
              "it up on your new phone."],
    "reset": ["Our reset emails expired too early; that is fixed. Here is a fresh reset link, "
              "valid for 30 minutes."],
    "cancel": ["Your subscription is cancelled and will not renew. You keep access until the "
               "end of the period."],
    "address": ["Done: order #{order} will ship to your new address."],
    "crash": ["Thank you for the detailed report. Our engineers reproduced the crash and a fix "
              "ships in version {version}.1."],
    "api": ["Thanks for the request IDs: the 500 errors came from one overloaded database node, "
            "which has been replaced. Please let us know if you still see any."],
    "export": ["Thank you for the report: the missing CSV columns are a known bug, fixed in the "
               "next release.", "As a workaround, please export via Settings > Data instead."],
    "presales": ["For a team of your size the Pro plan is the best fit; yearly billing saves "
                 "two months."],
    "feature": ["Thanks for the suggestion! I have added your vote to the dark mode request and "
                "tagged you so we let you know when it ships."],
    "exchange": ["No problem: I have sent a prepaid label for the exchange; the new size ships "
                 "as soon as the parcel is scanned."],
    "email": ["You can change it under Settings > Account > Email; we send a confirmation to "
              "the new address."],
    "gdpr": ["Done: your account and personal data are scheduled for deletion within 30 "
             "days, as required by GDPR."],
    "checkout": ["Checkout had an outage for 20 minutes this morning; it works again. Sorry "
                 "for the trouble!"],
    "question": ["Yes: you can add a second user under Settings > Team; each user gets their "
                 "own login."],
}
AGENT_LANG = {
    "ru": {"refund": "Возврат оформлен, деньги поступят в течение 5–10 рабочих дней.",
           "shipping": "Здравствуйте, {first}! Посылка с заказом #{order} в пути, доставка через 2 дня.",
           "damaged": "Здравствуйте, {first}! Мы уже отправили замену для заказа #{order}.",
           "login": "Мы сбросили пароль, ссылка для входа действует 30 минут.",
           "charged_twice": "Второе списание отменено, деньги вернутся в течение нескольких дней.",
           "cancel": "Подписка отменена и не будет продлена."},
    "zh": {"refund": "{first}您好，我们已为订单 #{order} 办理退款，预计 5-10 个工作日到账。",
           "shipping": "{first}您好，订单 #{order} 已在派送途中，预计两天内送达。",
           "login": "我们已重置您的登录，请在 30 分钟内使用链接。",
           "invoice": "我们已重新开具发票，可在账户的账单页面下载。",
           "cancel": "您的订阅已取消，不会再续费。"},
    "ja": {"refund": "{first}様、注文 #{order} の返金手続きを完了しました。",
           "login": "{first}様、パスワードをリセットしました。30分以内にリンクからログインしてください。"},
}
GREETING = {"en": "Hi {first},", "ru": "Здравствуйте, {first}!", "zh": "{first}您好，",
            "ja": "{first}様"}
SIGNOFF = {"en": ["Best regards", "Kind regards", "Thanks", "Cheers"], "ru": ["С уважением"],
           "zh": ["谢谢"], "ja": ["よろしくお願いいたします"]}
LEGACY_CHARSET = {"ru": "koi8-r", "zh": "gb2312", "ja": "iso-2022-jp"}
MAILERS = ["Microsoft Outlook 16.0", "Apple Mail (2.3731.700.6)", "Mozilla Thunderbird 115.3",
           "Gmail", "K-9 Mail for Android", "Roundcube Webmail/1.6.5", None, None]
